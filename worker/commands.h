/*
 * custos-worker's commands that live outside main.c. Each takes the arguments after the
 * command name and returns the process exit status.
 */
#ifndef CU_WORKER_COMMANDS_H
#define CU_WORKER_COMMANDS_H

/* test_email TO: renders email/setup and sends it; 0 sent, 1 try again later, 2 refused. */
int cu_worker_test_email(int argc, char **argv);

#endif
