// The ASCII character codes the text and byte scanners compare against (codeText.ts, includes.ts): one table, named.
export const TAB = 0x09;
export const LF = 0x0a;
export const CR = 0x0d;
export const SPACE = 0x20;
export const DQUOTE = 0x22;
export const HASH = 0x23;
export const SQUOTE = 0x27;
export const STAR = 0x2a;
export const SLASH = 0x2f;
export const BACKSLASH = 0x5c;
