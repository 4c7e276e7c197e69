/** Response bodies in tests are whatever the server sent; assertions, not types, check their shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export const json = (res: Response): Promise<Json> => res.json() as Promise<Json>;
