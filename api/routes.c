/* The route table: every Placement URL, method and microversion window. */
#include "api/api.h"
#include "api/handlers.h"
#include "server/microversion.h"

#define RP  "/resource_providers/{uuid}"
#define ALL MV(1, 0), MV_LATEST

/* clang-format off */
const struct route api_routes[] = {
  /* method    pattern                          window                handler                     policy */
  { "GET",    "/",                              ALL,                  root_get,                   NULL },
  { "GET",    "/resource_providers",            ALL,                  providers_list,             "resource_providers:list" },
  { "POST",   "/resource_providers",            ALL,                  providers_create,           "resource_providers:create", .json_body = true },
  { "GET",    RP,                               ALL,                  providers_get,              "resource_providers:show" },
  { "PUT",    RP,                               ALL,                  providers_update,           "resource_providers:update", .json_body = true },
  { "DELETE", RP,                               ALL,                  providers_delete,           "resource_providers:delete" },
  { "GET",    RP "/inventories",                ALL,                  inventories_list,           "resource_providers:inventories:list" },
  { "POST",   RP "/inventories",                ALL,                  inventories_create,         "resource_providers:inventories:create", .json_body = true },
  { "PUT",    RP "/inventories",                ALL,                  inventories_replace_all,    "resource_providers:inventories:update", .json_body = true },
  { "DELETE", RP "/inventories",                MV(1, 5), MV_LATEST,  inventories_delete_all,     "resource_providers:inventories:delete", .too_old = 405 },
  { "GET",    RP "/inventories/{rc}",           ALL,                  inventory_get,              "resource_providers:inventories:show" },
  { "PUT",    RP "/inventories/{rc}",           ALL,                  inventory_update,           "resource_providers:inventories:update", .json_body = true },
  { "DELETE", RP "/inventories/{rc}",           ALL,                  inventory_delete,           "resource_providers:inventories:delete" },
  { "GET",    RP "/usages",                     ALL,                  provider_usages_get,        "resource_providers:usages" },
  { "GET",    RP "/aggregates",                 MV(1, 1), MV_LATEST,  provider_aggregates_get,    "resource_providers:aggregates:list" },
  { "PUT",    RP "/aggregates",                 MV(1, 1), MV_LATEST,  provider_aggregates_put,    "resource_providers:aggregates:update", .json_body = true },
  { "GET",    RP "/allocations",                ALL,                  provider_allocations_get,   "resource_providers:allocations:list" },
  { "GET",    RP "/traits",                     MV(1, 6), MV_LATEST,  provider_traits_get,        "resource_providers:traits:list" },
  { "PUT",    RP "/traits",                     MV(1, 6), MV_LATEST,  provider_traits_put,        "resource_providers:traits:update", .json_body = true },
  { "DELETE", RP "/traits",                     MV(1, 6), MV_LATEST,  provider_traits_delete,     "resource_providers:traits:delete" },
  { "GET",    "/resource_classes",              MV(1, 2), MV_LATEST,  resource_classes_list,      "resource_classes:list" },
  { "POST",   "/resource_classes",              MV(1, 2), MV_LATEST,  resource_classes_create,    "resource_classes:create", .json_body = true },
  { "GET",    "/resource_classes/{name}",       MV(1, 2), MV_LATEST,  resource_class_get,         "resource_classes:show" },
  { "PUT",    "/resource_classes/{name}",       MV(1, 2), MV(1, 6),   resource_class_update_v1_2, "resource_classes:update", .json_body = true },
  { "PUT",    "/resource_classes/{name}",       MV(1, 7), MV_LATEST,  resource_class_put_v1_7,    "resource_classes:update" },
  { "DELETE", "/resource_classes/{name}",       MV(1, 2), MV_LATEST,  resource_class_delete,      "resource_classes:delete" },
  { "GET",    "/traits",                        MV(1, 6), MV_LATEST,  traits_list,                "traits:list" },
  { "GET",    "/traits/{name}",                 MV(1, 6), MV_LATEST,  trait_get,                  "traits:show" },
  { "PUT",    "/traits/{name}",                 MV(1, 6), MV_LATEST,  trait_put,                  "traits:update" },
  { "DELETE", "/traits/{name}",                 MV(1, 6), MV_LATEST,  trait_delete,               "traits:delete" },
  { "POST",   "/allocations",                   MV(1, 13), MV_LATEST, allocations_post,           "allocations:manage", .json_body = true },
  { "GET",    "/allocations/{consumer_uuid}",   ALL,                  allocations_get,            "allocations:list" },
  { "PUT",    "/allocations/{consumer_uuid}",   ALL,                  allocations_put,            "allocations:update", .json_body = true },
  { "DELETE", "/allocations/{consumer_uuid}",   ALL,                  allocations_delete,         "allocations:delete" },
  { "GET",    "/allocation_candidates",         MV(1, 10), MV_LATEST, allocation_candidates_get,  "allocation_candidates:list" },
  { "GET",    "/usages",                        MV(1, 9), MV_LATEST,  usages_get,                 "usages" },
  { "POST",   "/reshaper",                      MV(1, 30), MV_LATEST, reshaper_post,              "reshaper:reshape", .json_body = true },
  /* placid's own scheduling endpoint: flavor + image to allocation candidates. */
  { "POST",   "/placid/allocation_candidates",  ALL,                  scheduling_candidates_post, "placid:scheduling", .json_body = true, .text_plain = true },
  /* placid's own: why a query finds what it finds (issue 12). */
  { "GET",    "/placid/allocation_candidates/explain", ALL,           allocation_candidates_explain, "allocation_candidates:list", .text_plain = true },
  /* oslo.middleware's healthcheck: plain "OK" without a token, details for an admin. */
  { "GET",    "/healthcheck",                   ALL,                  healthcheck_get,            NULL, .any_accept = true },
  { "HEAD",   "/healthcheck",                   ALL,                  healthcheck_get,            NULL, .any_accept = true },
  { NULL },
};
/* clang-format on */
