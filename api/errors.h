/* Placement's error codes (placement/errors.py), sent from microversion 1.23. */
#ifndef PLACID_API_ERRORS_H
#define PLACID_API_ERRORS_H

#define ERR_DEFAULT                       "placement.undefined_code"
#define ERR_INVENTORY_INUSE               "placement.inventory.inuse"
#define ERR_CONCURRENT_UPDATE             "placement.concurrent_update"
#define ERR_DUPLICATE_NAME                "placement.duplicate_name"
#define ERR_PROVIDER_INUSE                "placement.resource_provider.inuse"
#define ERR_PROVIDER_CANNOT_DELETE_PARENT "placement.resource_provider.cannot_delete_parent"
#define ERR_PROVIDER_NOT_FOUND            "placement.resource_provider.not_found"
#define ERR_QUERY_DUPLICATE_KEY           "placement.query.duplicate_key"
#define ERR_QUERY_BAD_VALUE               "placement.query.bad_value"
#define ERR_QUERY_MISSING_VALUE           "placement.query.missing_value"
/* placid's own: an allocation-candidates search stopped at its work limit. */
#define ERR_CANDIDATES_WORK_LIMIT "placid.allocation_candidates.work_limit"

#endif
