/*
 * The four list fields of the register schema (networks, exposed_ports,
 * published_ports, exposure_observations): validation with STD's
 * coercions and canonicalisation into the compact JSON text a struct
 * store_record keeps.
 *
 * Canonical form (so that equality is a string compare): compact JSON, no
 * insignificant whitespace, every object with all its keys in this order
 * and defaults filled in:
 *   networks:              [{"name":s,"aliases":[s...]}]
 *   exposed_ports:         [s...]
 *   published_ports:       [{"container_port":i,"protocol":s,"host_ip":s,"host_port":i}]
 *   exposure_observations: [{"layer":s,"hostname":s|null,"tls":b,"path_prefix":s|null,
 *                            "auth":s|null,"details":{...}|null}]
 * Observations whose layer is "" are dropped. Canonicalising canonical
 * text again yields the same text.
 */
#ifndef STORE_LISTFIELDS_H
#define STORE_LISTFIELDS_H

#include <jansson.h>

#include "validate.h"

/* 1 when name is one of the four list fields, else 0. */
int store_list_is_field(const char *name);

/*
 * Validate value (not JSON null) for the list field `field` and set *out to
 * its malloc'd canonical JSON text. loc is the field's own location (NULL
 * means [field]); problems are recorded in v with full paths below it.
 * Returns 0, or ERR_INVAL with every problem recorded (*out untouched).
 */
int store_list_canon(const char *field, const json_t *value, const json_t *loc,
                     struct store_verr *v, char **out);

/*
 * Deepest `details` object accepted (itself = 1): the service's YAML file
 * nests it 4 levels down and the YAML reader stops at STORE_YAML_MAX_DEPTH.
 */
#define STORE_LIST_MAX_DETAILS_DEPTH 32

#endif
