export declare const SECRET: string
export declare const ISSUER: string
export declare const AUDIENCE: string
export declare function check(base: string): Promise<void>
