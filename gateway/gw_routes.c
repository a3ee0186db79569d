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
    {"GET", "/api/v2/user", LOCAL, NULL, NULL, NULL, GW_ANY_ROLE, gw_handle_user},
    {"GET", "/api/v2/openapi.json", LOCAL, NULL, NULL, NULL, GW_ANY_ROLE, gw_handle_openapi},

    /* the portal: its files, sessions, tokens and users (gw_static.c, gw_session.c,
     * gw_account.c) */
    {"GET", "/", LOCAL, NULL, NULL, NULL, GW_PUBLIC, gw_handle_root},
    {"GET", "/app", LOCAL, NULL, NULL, NULL, GW_PUBLIC, gw_handle_static},
    {"GET", "/favicon.ico", LOCAL, NULL, NULL, NULL, GW_PUBLIC, gw_handle_static},
    {"GET", "/app/{file*}", LOCAL, NULL, NULL, NULL, GW_PUBLIC, gw_handle_static},
    {"POST", "/api/v2/session", LOCAL, NULL, NULL, NULL, GW_PUBLIC, gw_handle_sign_in},
    {"GET", "/api/v2/session", LOCAL, NULL, NULL, NULL, GW_ANY_ROLE, gw_handle_session},
    {"DELETE", "/api/v2/session", LOCAL, NULL, NULL, NULL, GW_ANY_ROLE, gw_handle_sign_out},
    {"GET", "/api/v2/tokens", LOCAL, NULL, NULL, NULL, GW_ANY_ROLE, gw_handle_tokens_list},
    {"POST", "/api/v2/tokens", LOCAL, NULL, NULL, NULL, GW_ANY_ROLE, gw_handle_token_create},
    {"DELETE", "/api/v2/tokens/{token_id}", LOCAL, NULL, NULL, NULL, GW_ANY_ROLE,
     gw_handle_token_revoke},
    {"GET", "/api/v2/users", LOCAL, NULL, NULL, NULL, GW_ADMIN_ONLY, gw_handle_users_list},
    {"POST", "/api/v2/users", LOCAL, NULL, NULL, NULL, GW_ADMIN_ONLY, gw_handle_user_create},
    {"PUT", "/api/v2/users/{username}", LOCAL, NULL, NULL, NULL, GW_ADMIN_ONLY,
     gw_handle_user_update},
    {"DELETE", "/api/v2/users/{username}", LOCAL, NULL, NULL, NULL, GW_ADMIN_ONLY,
     gw_handle_user_remove},

    /* nodes */
    {"GET", "/api/v2/nodes", SF_SVC_NODES, "nodes.list", &stbfarm__node_list_request__descriptor,
     &stbfarm__node_list__descriptor, GW_UNWRAP | GW_SHARED | GW_ANY_ROLE, NULL},
    {"GET", "/api/v2/nodes/{node_id}", SF_SVC_NODES, "nodes.get",
     &stbfarm__node_get_request__descriptor, &stbfarm__node__descriptor, GW_SHARED | GW_ANY_ROLE,
     NULL},
    {"GET", "/api/v2/nodes/{node_id}/screenshot.png", SF_SVC_NODES, "nodes.screenshot",
     &stbfarm__node_get_request__descriptor, NULL, GW_ANY_ROLE, NULL},
    {"GET", "/api/v2/nodes/{node_id}/thumbnail.jpg", SF_SVC_NODES, "nodes.thumbnail",
     &stbfarm__node_get_request__descriptor, NULL, GW_ANY_ROLE, NULL},
    {"GET", "/api/v2/nodes/{node_id}/live.mjpeg", LOCAL, NULL, NULL, NULL, GW_ANY_ROLE,
     gw_handle_live},
    {"POST", "/api/v2/nodes/{node_id}/press", SF_SVC_NODES, "nodes.press",
     &stbfarm__node_press_request__descriptor, &stbfarm__node_press_reply__descriptor,
     GW_BODY | GW_ROLE_MANUAL, NULL},

    /* jobs and the test pack */
    {"GET", "/api/v2/test_pack/{test_pack_revision*}/test_case_names", SF_SVC_JOBS,
     "jobs.test_case_names", &stbfarm__test_case_names_request__descriptor,
     &stbfarm__test_case_names__descriptor, GW_UNWRAP | GW_ROLE_READ, NULL},
    {"POST", "/api/v2/run_tests", SF_SVC_JOBS, "jobs.run", &stbfarm__run_tests_request__descriptor,
     &stbfarm__job__descriptor, GW_BODY, NULL},
    {"GET", "/api/v2/jobs/{job_uid:3}", SF_SVC_JOBS, "jobs.get", &stbfarm__job_request__descriptor,
     &stbfarm__job__descriptor, GW_SHARED | GW_ANY_ROLE, NULL},
    {"GET", "/api/v2/jobs/{job_uid:3}/await_completion", SF_SVC_JOBS, "jobs.get",
     &stbfarm__job_request__descriptor, &stbfarm__job__descriptor, GW_ANY_ROLE, gw_handle_await},
    {"PUT", "/api/v2/jobs/{job_uid:3}/stop", SF_SVC_JOBS, "jobs.stop",
     &stbfarm__job_request__descriptor, &stbfarm__job__descriptor, 0, NULL},
    {"POST", "/api/v2/jobs/{job_uid:3}/stop", SF_SVC_JOBS, "jobs.stop",
     &stbfarm__job_request__descriptor, &stbfarm__job__descriptor, 0, NULL},
    {"GET", "/api/v2/jobs/{job_uid:3}/log", SF_SVC_JOBS, "jobs.log",
     &stbfarm__job_log_request__descriptor, NULL, GW_ROLE_READ, gw_handle_log},
    {"GET", "/api/v2/jobs", SF_SVC_JOBS, "jobs.list", &stbfarm__job_list_request__descriptor,
     &stbfarm__job_detail_list__descriptor, GW_UNWRAP | GW_SHARED | GW_ANY_ROLE, NULL},
    {"GET", "/api/v2/test_pack/refs", SF_SVC_JOBS, "jobs.refs",
     &stbfarm__test_pack_refs_request__descriptor, &stbfarm__test_pack_refs__descriptor,
     GW_ANY_ROLE, NULL},
    {"GET", "/api/v2/test_pack/{test_pack_revision*}/remote_controls", SF_SVC_JOBS,
     "jobs.remote_controls", &stbfarm__remote_control_request__descriptor,
     &stbfarm__remote_controls__descriptor, GW_ANY_ROLE, NULL},
    {"GET", "/api/v2/test_pack/{test_pack_revision*}/remote_controls/{remote_control}", SF_SVC_JOBS,
     "jobs.remote_control", &stbfarm__remote_control_request__descriptor,
     &stbfarm__remote_control__descriptor, GW_ANY_ROLE, NULL},
    {"GET", "/api/v2/nodes/{node_id}/job", SF_SVC_JOBS, "jobs.node_job",
     &stbfarm__node_job_request__descriptor, &stbfarm__job__descriptor, GW_SHARED | GW_ANY_ROLE,
     NULL},
    {"GET", "/api/v2/nodes/{node_id}/job/await_completion", SF_SVC_JOBS, "jobs.node_job",
     &stbfarm__node_job_request__descriptor, &stbfarm__job__descriptor, GW_ANY_ROLE,
     gw_handle_await},
    {"POST", "/api/v2/nodes/{node_id}/job/stop", SF_SVC_JOBS, "jobs.node_stop",
     &stbfarm__node_job_request__descriptor, &stbfarm__job__descriptor, 0, NULL},
    {"GET", "/api/v2/nodes/{node_id}/queue", SF_SVC_JOBS, "jobs.node_queue",
     &stbfarm__node_job_request__descriptor, &stbfarm__job_detail_list__descriptor,
     GW_UNWRAP | GW_ANY_ROLE, NULL},

    /* reservations */
    {"GET", "/api/v2/reservations", SF_SVC_RESERVATIONS, "reservations.list",
     &stbfarm__reservation_list_request__descriptor, &stbfarm__reservation_list__descriptor,
     GW_SHARED | GW_ANY_ROLE, NULL},
    {"POST", "/api/v2/reservations", SF_SVC_RESERVATIONS, "reservations.create",
     &stbfarm__reservation_create_request__descriptor, &stbfarm__reservation_list__descriptor,
     GW_BODY | GW_ROLE_MANUAL, NULL},
    {"GET", "/api/v2/reservations/{reservation_id}", SF_SVC_RESERVATIONS, "reservations.get",
     &stbfarm__reservation_ref__descriptor, &stbfarm__reservation__descriptor,
     GW_SHARED | GW_ANY_ROLE, NULL},
    {"DELETE", "/api/v2/reservations/{reservation_id}", SF_SVC_RESERVATIONS, "reservations.end",
     &stbfarm__reservation_ref__descriptor, &stbfarm__empty__descriptor, GW_ROLE_MANUAL, NULL},
    {"POST", "/api/v2/reservations/{reservation_id}/extend", SF_SVC_RESERVATIONS,
     "reservations.extend", &stbfarm__reservation_extend_request__descriptor,
     &stbfarm__empty__descriptor, GW_BODY | GW_ROLE_MANUAL, NULL},
    {"POST", "/api/v2/reservations/{reservation_id}/interrupt", SF_SVC_RESERVATIONS,
     "reservations.interrupt", &stbfarm__reservation_interrupt_request__descriptor,
     &stbfarm__empty__descriptor, GW_BODY | GW_ROLE_MANUAL, NULL},

    /* results */
    {"GET", "/api/v2/results", SF_SVC_RESULTS, "results.list",
     &stbfarm__results_list_request__descriptor, &stbfarm__result_list__descriptor,
     GW_UNWRAP | GW_ROLE_READ, NULL},
    {"GET", "/api/v2/results.csv", SF_SVC_RESULTS, "results.list_csv",
     &stbfarm__results_list_request__descriptor, NULL, GW_ROLE_READ, NULL},
    {"GET", "/api/v2/results.xml", SF_SVC_RESULTS, "results.list_xml",
     &stbfarm__results_list_request__descriptor, NULL, GW_ROLE_READ, NULL},
    {"GET", "/api/v2/results/{result_id:4}", SF_SVC_RESULTS, "results.get",
     &stbfarm__result_get_request__descriptor, &stbfarm__result__descriptor,
     GW_SHARED | GW_ROLE_READ, NULL},
    {"GET", "/api/v2/results/{result_id:4}/stbt.log", SF_SVC_RESULTS, "results.log",
     &stbfarm__result_get_request__descriptor, NULL, GW_ARTIFACT | GW_ROLE_READ, NULL},
    {"GET", "/api/v2/results/{result_id:4}/screenshot.png", SF_SVC_RESULTS, "results.screenshot",
     &stbfarm__result_get_request__descriptor, NULL,
     GW_ARTIFACT | GW_SHARED | GW_IMMUTABLE | GW_ROLE_READ, NULL},
    {"GET", "/api/v2/results/{result_id:4}/artifacts", SF_SVC_RESULTS, "results.artifacts",
     &stbfarm__result_get_request__descriptor, &stbfarm__artifact_list__descriptor,
     GW_UNWRAP | GW_ARTIFACT | GW_SHARED | GW_ROLE_READ, NULL},
    {"GET", "/api/v2/results/{result_id:4}/artifacts/{filename*}", SF_SVC_RESULTS,
     "results.artifact", &stbfarm__artifact_get_request__descriptor, NULL,
     GW_ARTIFACT | GW_SHARED | GW_IMMUTABLE | GW_ROLE_READ, NULL},
};

const size_t gw_n_routes = sizeof(gw_routes) / sizeof(gw_routes[0]);
