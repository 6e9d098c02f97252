// The same behaviour as tagA.ts under another version: a restart with it redoes a range prepared with
// version A (a settings fingerprint mismatch is reported, the redo proceeds).
export { transform } from './tagShared.js';
export const version = 'tag-B';
