-- A schedule's last_task_status is its newest task: an index instead of a scan per schedule.
CREATE INDEX tasks_schedule ON tasks (schedule_id, mtime) WHERE schedule_id IS NOT NULL;
