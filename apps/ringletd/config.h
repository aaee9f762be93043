/*
 * config.h - ringletd's config file (-c FILE), read with libconfig.  The
 * settings and their meaning: etc/ringlet.conf.
 */
#ifndef RINGLETD_CONFIG_H
#define RINGLETD_CONFIG_H

#include "opts.h"

/*
 * Read the settings of the file at path into *o, over what *o holds (the
 * defaults), through the same checks as the flags; the strings are copied
 * into o->strings.  Unknown settings are errors.  Returns 0, or 2 after
 * printing one line on stderr naming the file, the line, the setting and
 * what was expected, e.g.
 *   ringletd: ringlet.conf:12: registrar.min_expires: expected an integer from 0 to 4294967295
 */
int rd_config_load(struct rd_opts *o, const char *path);

#endif
