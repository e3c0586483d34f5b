// Express 4 is installed under the alias `express4` (npm:express@4) and ships no types of its own;
// the surface these tests use (app.use/get, error middleware, req/res) is the same in Express 5's.
declare module 'express4' {
  import express from 'express'
  export default express
}
