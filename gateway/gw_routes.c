/* Every endpoint of the API, and the service method behind it. To find the code behind an
 * endpoint, find its line here, then the method in services/<service>/. */
#include "gw.h"

#include "common.pb-c.h"
#include "nodes.pb-c.h"
#include "reservations.pb-c.h"

#define LOCAL -1

const gw_route gw_routes[] = {
    {"GET", "/healthz", LOCAL, NULL, NULL, NULL, GW_PUBLIC, gw_handle_health},
    {"GET", "/api/v2/user", LOCAL, NULL, NULL, NULL, 0, gw_handle_user},

    /* nodes */
    {"GET", "/api/v2/nodes", SF_SVC_NODES, "nodes.list", &stbfarm__node_list_request__descriptor,
     &stbfarm__node_list__descriptor, GW_UNWRAP, NULL},
    {"GET", "/api/v2/nodes/{node_id}", SF_SVC_NODES, "nodes.get",
     &stbfarm__node_get_request__descriptor, &stbfarm__node__descriptor, 0, NULL},

    /* reservations */
    {"GET", "/api/v2/reservations", SF_SVC_RESERVATIONS, "reservations.list",
     &stbfarm__reservation_list_request__descriptor, &stbfarm__reservation_list__descriptor, 0,
     NULL},
    {"POST", "/api/v2/reservations", SF_SVC_RESERVATIONS, "reservations.create",
     &stbfarm__reservation_create_request__descriptor, &stbfarm__reservation_list__descriptor,
     GW_BODY, NULL},
    {"GET", "/api/v2/reservations/{reservation_id}", SF_SVC_RESERVATIONS, "reservations.get",
     &stbfarm__reservation_ref__descriptor, &stbfarm__reservation__descriptor, 0, NULL},
    {"DELETE", "/api/v2/reservations/{reservation_id}", SF_SVC_RESERVATIONS, "reservations.end",
     &stbfarm__reservation_ref__descriptor, &stbfarm__empty__descriptor, 0, NULL},
    {"POST", "/api/v2/reservations/{reservation_id}/extend", SF_SVC_RESERVATIONS,
     "reservations.extend", &stbfarm__reservation_extend_request__descriptor,
     &stbfarm__empty__descriptor, GW_BODY, NULL},
    {"POST", "/api/v2/reservations/{reservation_id}/interrupt", SF_SVC_RESERVATIONS,
     "reservations.interrupt", &stbfarm__reservation_interrupt_request__descriptor,
     &stbfarm__empty__descriptor, GW_BODY, NULL},
};

const size_t gw_n_routes = sizeof(gw_routes) / sizeof(gw_routes[0]);
