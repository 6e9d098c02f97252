// A pure transform for the CLI tests (`--transform`): drops records whose `data.i` is a multiple of 10,
// keeps the others as they are. Version A.
export { transform } from './tagShared.js';
export const version = 'tag-A';
