/** The package version, kept in one place for `--version` and JSON documents. */
export const VERSION = '0.1.0';
