/*
 * config.h — typed access to the configuration. The keys, types, defaults and help texts
 * are the rows of config.def; values are held as text and parsed on set, so a bad value is
 * refused where it is given (file, line, column) and never at use.
 */
#ifndef ST_CONFIG_H
#define ST_CONFIG_H

#include "core/core.h"

typedef enum st_cfg_key {
#define X(id, key, type, def, help) ST_CFG_##id,
#include "core/config.def"
#undef X
    ST_CFG__COUNT
} st_cfg_key;

strata_status st_config_create(st_config **out);
void st_config_free(st_config *cfg);

/* Load YAML text (name is used in messages). Used by strata_config_load and the fuzzer. */
strata_status st_config_load_buffer(strata_ctx *ctx, const char *name, const char *data,
                                    size_t len);

/* Typed getters; values were validated when set. Strings are borrowed from cfg. */
const char *st_cfg_str(const st_config *cfg, st_cfg_key key);
int64_t st_cfg_int(const st_config *cfg, st_cfg_key key);
double st_cfg_num(const st_config *cfg, st_cfg_key key);
bool st_cfg_bool(const st_config *cfg, st_cfg_key key);
/* Whether the key was set by the user (file or flag) rather than left at its default. */
bool st_cfg_is_set(const st_config *cfg, st_cfg_key key);
/* Is `word` one of the comma-separated items of a LIST key (case-insensitive, trimmed)? */
bool st_cfg_list_has(const st_config *cfg, st_cfg_key key, st_sv word);
/* Parse a LIST key of numbers into out[0..max); returns the count, or -1 on a bad item. */
int st_cfg_list_nums(const st_config *cfg, st_cfg_key key, double *out, int max);
/* The dotted name of a key. */
const char *st_cfg_name(st_cfg_key key);

#define ST_CFG(ctx, id) st_cfg_str((ctx)->config, ST_CFG_##id)

#endif /* ST_CONFIG_H */
