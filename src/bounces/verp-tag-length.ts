/** Characters of a VERP tag (verp.ts): 15 bytes in base32. The config schema needs it without the crypto. */
export const VERP_TAG_LENGTH = 24;
