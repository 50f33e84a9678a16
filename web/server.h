/*
 * web/server.h — the HTTP server (libmicrohttpd): start on cfg.bind:cfg.port with a thread
 * pool and keep-alive, stop after in-flight requests finish.
 */
#ifndef SOMA_WEB_SERVER_H
#define SOMA_WEB_SERVER_H

#include "web.h"

typedef struct web_server web_server;

/* Starts serving app. OUT: *port (the bound port, useful with port 0). NULL on failure. */
web_server *web_server_start(web_app *app, int *port);
/* Stops accepting, lets running requests finish, closes connections, frees. */
void web_server_stop(web_server *s);

#endif
