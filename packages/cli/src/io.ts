/**
 * Where the commands read and write: passed in by the bin (the process's streams) so that
 * `run()` does no I/O of its own.
 */

/** Where the command reads and writes. */
export interface CliIo {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  /** All of standard input, as text. */
  readonly stdin: () => Promise<string>
}
