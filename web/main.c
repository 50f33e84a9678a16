/*
 * web/main.c — `soma-movies`: parse the configuration, start the application and the HTTP
 * server, wait for SIGINT or SIGTERM, then shut down in order: stop accepting, let running
 * requests finish, save the model, close the database (every rating was committed before its
 * response was sent, so nothing is lost).
 */
#include <signal.h>
#include <stdio.h>

#include "server.h"
#include "web.h"

int main(int argc, char **argv) {
    web_config cfg = web_config_default();
    int rc = web_config_parse(&cfg, argc, argv);
    if (rc == 1) return 0;
    if (rc) return 2;
    /* Block the stop signals in every thread (MHD's threads inherit the mask); this thread
     * waits for them with sigwait. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    web_app app;
    if (web_app_init(&app, &cfg)) return 1;
    int port = 0;
    web_server *srv = web_server_start(&app, &port);
    if (!srv) {
        web_app_shutdown(&app);
        return 1;
    }
    web_log("listening on http://%s:%d/ (Ctrl-C to stop)", cfg.bind, port);
    fflush(stderr);
    int sig = 0;
    sigwait(&stop, &sig);
    web_log("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    web_server_stop(srv);
    web_app_shutdown(&app);
    web_log("stopped cleanly");
    return 0;
}
