/*
 * soma.h — Soma: spiking neural networks whose neurons integrate input linearly, bilinearly
 * or with shunting inhibition, trained with surrogate-gradient BPTT.
 *
 * A tour of the API:
 *
 *   soma_set_threads(0);                                    // $SOMA_THREADS or all cores
 *   soma_dataset train, test;                               // soma/data.h
 *   soma_mnist_load(&train, "cache/mnist", true, &err);
 *
 *   soma_net_config cfg = soma_net_default_config();        // soma/net.h
 *   cfg.T = 20;
 *   cfg.integrate.mode = SOMA_INTEGRATE_BILINEAR;
 *   soma_net *net;
 *   soma_net_create(&net, "784-100-10", &cfg, seed, &err);
 *
 *   soma_optim_params op = soma_optim_default_params();     // soma/train.h
 *   soma_optim *opt = soma_optim_create(&op, n_params);
 *   soma_train_epoch(net, opt, &train, &opts, epoch, &res, &err);
 *   soma_evaluate(net, &test, 256, seed, &ev, &err);
 *   soma_net_save(net, opt, "model.soma", &err);            // soma/checkpoint.h container
 *
 * Conventions: functions that can fail return a soma_status (0 = SOMA_OK) and describe the
 * problem in a soma_error or on the object; whoever creates frees; nothing prints.
 */
#ifndef SOMA_H
#define SOMA_H

#include "soma/checkpoint.h"
#include "soma/core.h"
#include "soma/data.h"
#include "soma/export.h"
#include "soma/inspect.h"
#include "soma/net.h"
#include "soma/neuron.h"
#include "soma/rec.h"
#include "soma/train.h"
#include "soma/viz.h"

#endif
