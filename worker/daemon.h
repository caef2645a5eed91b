/* custos-worker's daemon and task commands. */
#ifndef CU_WORKER_DAEMON_H
#define CU_WORKER_DAEMON_H

/* custos-worker run: the task consumer and scheduler, until SIGTERM. */
int cu_worker_run(int argc, char **argv);
/* custos-worker task list | task run ACTOR [JSON-ARGS] */
int cu_worker_task(int argc, char **argv);
/* custos-worker healthcheck: 0 when PostgreSQL answers. */
int cu_worker_healthcheck(int argc, char **argv);

#endif
