/*
 * mfauth import pskc FILE --map CSV [--key-file FILE]
 *
 * Bulk enrollment of hardware TOTP tokens from a vendor's RFC 6030 PSKC
 * file, mapped to users by token serial number.  See cmd_import_pskc.c.
 */
#ifndef MFAUTH_PSKC_IMPORT_H
#define MFAUTH_PSKC_IMPORT_H

#include "cli.h"

/*
 * argv[0] is "pskc" (cmd_import passes its argv shifted by one).  Returns
 * EXIT_OK when every key package was imported and the map had no bad line,
 * EXIT_FAIL when anything failed (each failure reported on stderr, the
 * others still imported), EXIT_USAGE for bad arguments.
 */
int cmd_import_pskc(struct cli *c, int argc, char **argv);

#endif
