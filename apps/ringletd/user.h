/*
 * user.h - `ringletd user add|del|list`: provision digest credentials in the
 * store (DESIGN.md "ringletd flags").
 */
#ifndef RINGLETD_USER_H
#define RINGLETD_USER_H

#include "opts.h"

/*
 * Run the `user` sub-command; argv[o->user_cmd] is "user".  The store is
 * o->store (--store, or what -c FILE said); the realm of the HA1 digests is
 * o->realm when set, else the DOMAIN of USER@DOMAIN.  Returns the exit
 * status: 0 done, 1 the store failed (one line on stderr), 2 bad usage (one
 * line on stderr saying what to write).
 */
int rd_user_main(const struct rd_opts *o, int argc, char **argv);

#endif
