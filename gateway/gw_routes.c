/* Every endpoint of the API, and the service method behind it. To find the code behind an
 * endpoint, find its line here, then the method in services/<service>/. */
#include "gw.h"

#include "api.pb-c.h"
#include "common.pb-c.h"
#include "jobs.pb-c.h"
#include "nodes.pb-c.h"
#include "reservations.pb-c.h"
#include "results.pb-c.h"

#define LOCAL -1

const gw_route gw_routes[] = {
    {"GET", "/healthz", LOCAL, NULL, NULL, NULL, GW_PUBLIC, gw_handle_health},
    {"GET", "/api/v2/user", LOCAL, NULL, NULL, NULL, 0, gw_handle_user},
    {"GET", "/api/v2/openapi.json", LOCAL, NULL, NULL, NULL, 0, gw_handle_openapi},

    /* nodes */
    {"GET", "/api/v2/nodes", SF_SVC_NODES, "nodes.list", &stbfarm__node_list_request__descriptor,
     &stbfarm__node_list__descriptor, GW_UNWRAP | GW_SHARED, NULL},
    {"GET", "/api/v2/nodes/{node_id}", SF_SVC_NODES, "nodes.get",
     &stbfarm__node_get_request__descriptor, &stbfarm__node__descriptor, GW_SHARED, NULL},
    {"GET", "/api/v2/nodes/{node_id}/screenshot.png", SF_SVC_NODES, "nodes.screenshot",
     &stbfarm__node_get_request__descriptor, NULL, 0, NULL},
    {"GET", "/api/v2/nodes/{node_id}/thumbnail.jpg", SF_SVC_NODES, "nodes.thumbnail",
     &stbfarm__node_get_request__descriptor, NULL, 0, NULL},
    {"POST", "/api/v2/nodes/{node_id}/press", SF_SVC_NODES, "nodes.press",
     &stbfarm__node_press_request__descriptor, &stbfarm__node_press_reply__descriptor, GW_BODY,
     NULL},

    /* jobs and the test pack */
    {"GET", "/api/v2/test_pack/{test_pack_revision*}/test_case_names", SF_SVC_JOBS,
     "jobs.test_case_names", &stbfarm__test_case_names_request__descriptor,
     &stbfarm__test_case_names__descriptor, GW_UNWRAP, NULL},
    {"POST", "/api/v2/run_tests", SF_SVC_JOBS, "jobs.run", &stbfarm__run_tests_request__descriptor,
     &stbfarm__job__descriptor, GW_BODY, NULL},
    {"GET", "/api/v2/jobs/{job_uid:3}", SF_SVC_JOBS, "jobs.get", &stbfarm__job_request__descriptor,
     &stbfarm__job__descriptor, GW_SHARED, NULL},
    {"GET", "/api/v2/jobs/{job_uid:3}/await_completion", SF_SVC_JOBS, "jobs.get",
     &stbfarm__job_request__descriptor, &stbfarm__job__descriptor, 0, gw_handle_await},
    {"PUT", "/api/v2/jobs/{job_uid:3}/stop", SF_SVC_JOBS, "jobs.stop",
     &stbfarm__job_request__descriptor, &stbfarm__job__descriptor, 0, NULL},
    {"POST", "/api/v2/jobs/{job_uid:3}/stop", SF_SVC_JOBS, "jobs.stop",
     &stbfarm__job_request__descriptor, &stbfarm__job__descriptor, 0, NULL},
    {"GET", "/api/v2/jobs/{job_uid:3}/log", SF_SVC_JOBS, "jobs.log",
     &stbfarm__job_request__descriptor, NULL, 0, NULL},
    {"GET", "/api/v2/nodes/{node_id}/job", SF_SVC_JOBS, "jobs.node_job",
     &stbfarm__node_job_request__descriptor, &stbfarm__job__descriptor, GW_SHARED, NULL},
    {"GET", "/api/v2/nodes/{node_id}/job/await_completion", SF_SVC_JOBS, "jobs.node_job",
     &stbfarm__node_job_request__descriptor, &stbfarm__job__descriptor, 0, gw_handle_await},
    {"POST", "/api/v2/nodes/{node_id}/job/stop", SF_SVC_JOBS, "jobs.node_stop",
     &stbfarm__node_job_request__descriptor, &stbfarm__job__descriptor, 0, NULL},

    /* reservations */
    {"GET", "/api/v2/reservations", SF_SVC_RESERVATIONS, "reservations.list",
     &stbfarm__reservation_list_request__descriptor, &stbfarm__reservation_list__descriptor,
     GW_SHARED, NULL},
    {"POST", "/api/v2/reservations", SF_SVC_RESERVATIONS, "reservations.create",
     &stbfarm__reservation_create_request__descriptor, &stbfarm__reservation_list__descriptor,
     GW_BODY, NULL},
    {"GET", "/api/v2/reservations/{reservation_id}", SF_SVC_RESERVATIONS, "reservations.get",
     &stbfarm__reservation_ref__descriptor, &stbfarm__reservation__descriptor, GW_SHARED, NULL},
    {"DELETE", "/api/v2/reservations/{reservation_id}", SF_SVC_RESERVATIONS, "reservations.end",
     &stbfarm__reservation_ref__descriptor, &stbfarm__empty__descriptor, 0, NULL},
    {"POST", "/api/v2/reservations/{reservation_id}/extend", SF_SVC_RESERVATIONS,
     "reservations.extend", &stbfarm__reservation_extend_request__descriptor,
     &stbfarm__empty__descriptor, GW_BODY, NULL},
    {"POST", "/api/v2/reservations/{reservation_id}/interrupt", SF_SVC_RESERVATIONS,
     "reservations.interrupt", &stbfarm__reservation_interrupt_request__descriptor,
     &stbfarm__empty__descriptor, GW_BODY, NULL},

    /* results */
    {"GET", "/api/v2/results", SF_SVC_RESULTS, "results.list",
     &stbfarm__results_list_request__descriptor, &stbfarm__result_list__descriptor, GW_UNWRAP,
     NULL},
    {"GET", "/api/v2/results.csv", SF_SVC_RESULTS, "results.list_csv",
     &stbfarm__results_list_request__descriptor, NULL, 0, NULL},
    {"GET", "/api/v2/results.xml", SF_SVC_RESULTS, "results.list_xml",
     &stbfarm__results_list_request__descriptor, NULL, 0, NULL},
    {"GET", "/api/v2/results/{result_id:4}", SF_SVC_RESULTS, "results.get",
     &stbfarm__result_get_request__descriptor, &stbfarm__result__descriptor, GW_SHARED, NULL},
    {"GET", "/api/v2/results/{result_id:4}/stbt.log", SF_SVC_RESULTS, "results.log",
     &stbfarm__result_get_request__descriptor, NULL, GW_ARTIFACT, NULL},
    {"GET", "/api/v2/results/{result_id:4}/screenshot.png", SF_SVC_RESULTS, "results.screenshot",
     &stbfarm__result_get_request__descriptor, NULL, GW_ARTIFACT | GW_SHARED | GW_IMMUTABLE, NULL},
    {"GET", "/api/v2/results/{result_id:4}/artifacts", SF_SVC_RESULTS, "results.artifacts",
     &stbfarm__result_get_request__descriptor, &stbfarm__artifact_list__descriptor,
     GW_UNWRAP | GW_ARTIFACT | GW_SHARED, NULL},
    {"GET", "/api/v2/results/{result_id:4}/artifacts/{filename*}", SF_SVC_RESULTS,
     "results.artifact", &stbfarm__artifact_get_request__descriptor, NULL,
     GW_ARTIFACT | GW_SHARED | GW_IMMUTABLE, NULL},
};

const size_t gw_n_routes = sizeof(gw_routes) / sizeof(gw_routes[0]);
