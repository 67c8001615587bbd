/* Every handler named in the route table. Each reads struct req and sets
 * status/reply or calls req_fail(). */
#ifndef PLACID_API_HANDLERS_H
#define PLACID_API_HANDLERS_H

#include "server/req.h"

handler_fn root_get;

handler_fn providers_list, providers_create, providers_get, providers_update, providers_delete;
handler_fn provider_aggregates_get, provider_aggregates_put;
handler_fn provider_traits_get, provider_traits_put, provider_traits_delete;

handler_fn inventories_list, inventories_create, inventories_replace_all, inventories_delete_all;
handler_fn inventory_get, inventory_update, inventory_delete;

handler_fn provider_usages_get, usages_get;
handler_fn provider_allocations_get;
handler_fn allocations_get, allocations_put, allocations_delete, allocations_post;
handler_fn reshaper_post;

handler_fn resource_classes_list, resource_classes_create, resource_class_get;
handler_fn resource_class_update_v1_2, resource_class_put_v1_7, resource_class_delete;

handler_fn traits_list, trait_get, trait_put, trait_delete;

handler_fn allocation_candidates_get;
handler_fn scheduling_candidates_post;
handler_fn healthcheck_get;
handler_fn allocation_candidates_explain;

#endif
