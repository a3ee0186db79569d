/* Every endpoint of the API, and the service method behind it. To find the code behind an
 * endpoint, find its line here, then the method in services/<service>/. */
#include "gw.h"

#include "common.pb-c.h"
#include "nodes.pb-c.h"
#include "results.pb-c.h"

#define LOCAL -1

const gw_route gw_routes[] = {
    {"GET", "/healthz", LOCAL, NULL, NULL, NULL, GW_PUBLIC, gw_handle_health},
    {"GET", "/api/v2/user", LOCAL, NULL, NULL, NULL, 0, gw_handle_user},

    /* nodes */
    {"GET", "/api/v2/nodes", SF_SVC_NODES, "nodes.list", &stbfarm__node_list_request__descriptor,
     &stbfarm__node_list__descriptor, GW_UNWRAP, NULL},
    {"GET", "/api/v2/nodes/{node_id}", SF_SVC_NODES, "nodes.get",
     &stbfarm__node_get_request__descriptor, &stbfarm__node__descriptor, 0, NULL},

    /* results */
    {"GET", "/api/v2/results", SF_SVC_RESULTS, "results.list",
     &stbfarm__results_list_request__descriptor, &stbfarm__result_list__descriptor, GW_UNWRAP,
     NULL},
    {"GET", "/api/v2/results.csv", SF_SVC_RESULTS, "results.list_csv",
     &stbfarm__results_list_request__descriptor, NULL, 0, NULL},
    {"GET", "/api/v2/results.xml", SF_SVC_RESULTS, "results.list_xml",
     &stbfarm__results_list_request__descriptor, NULL, 0, NULL},
    {"GET", "/api/v2/results/{result_id:4}", SF_SVC_RESULTS, "results.get",
     &stbfarm__result_get_request__descriptor, &stbfarm__result__descriptor, 0, NULL},
    {"GET", "/api/v2/results/{result_id:4}/stbt.log", SF_SVC_RESULTS, "results.log",
     &stbfarm__result_get_request__descriptor, NULL, GW_ARTIFACT, NULL},
    {"GET", "/api/v2/results/{result_id:4}/screenshot.png", SF_SVC_RESULTS, "results.screenshot",
     &stbfarm__result_get_request__descriptor, NULL, GW_ARTIFACT, NULL},
    {"GET", "/api/v2/results/{result_id:4}/artifacts", SF_SVC_RESULTS, "results.artifacts",
     &stbfarm__result_get_request__descriptor, &stbfarm__artifact_list__descriptor,
     GW_UNWRAP | GW_ARTIFACT, NULL},
    {"GET", "/api/v2/results/{result_id:4}/artifacts/{filename*}", SF_SVC_RESULTS,
     "results.artifact", &stbfarm__artifact_get_request__descriptor, NULL, GW_ARTIFACT, NULL},
};

const size_t gw_n_routes = sizeof(gw_routes) / sizeof(gw_routes[0]);
