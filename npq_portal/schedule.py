"""The one place where scheduled jobs are declared: Celery beat's schedule (`make beat`), which
settings.py gives Celery as it is. Each entry names a task, most of them
``notifications.tasks.run_scheduled_job`` with the name of a registered job.
"""

from celery.schedules import crontab

CELERY_BEAT_SCHEDULE = {
    "endorsement-chasers": {
        "task": "notifications.tasks.run_scheduled_job",
        "args": ["endorsement_chasers"],
        "schedule": crontab(hour=9, minute=0),
    },
    "endorsements-expire": {
        "task": "notifications.tasks.run_scheduled_job",
        "args": ["endorsements_expire"],
        "schedule": crontab(minute=10),
    },
    "registration-deadline": {
        "task": "notifications.tasks.run_scheduled_job",
        "args": ["registration_deadline"],
        "schedule": crontab(hour=9, minute=5),
    },
    "engagement-at-risk-weekly": {
        "task": "notifications.tasks.run_scheduled_job",
        "args": ["engagement_at_risk"],
        "schedule": crontab(day_of_week="mon", hour=7, minute=0),
    },
    "checkins-overdue": {
        "task": "notifications.tasks.run_scheduled_job",
        "args": ["checkins_overdue"],
        "schedule": crontab(day_of_week="mon", hour=7, minute=30),
    },
    "assessment-entries": {
        "task": "notifications.tasks.run_scheduled_job",
        "args": ["assessment_entries"],
        "schedule": crontab(hour=0, minute=5),
    },
    "assessment-opening": {
        "task": "notifications.tasks.run_scheduled_job",
        "args": ["assessment_opening"],
        "schedule": crontab(hour=8, minute=0),
    },
    "assessment-closing": {
        "task": "notifications.tasks.run_scheduled_job",
        "args": ["assessment_closing"],
        "schedule": crontab(minute=0),
    },
    "marking-due": {
        "task": "notifications.tasks.run_scheduled_job",
        "args": ["marking_due"],
        "schedule": crontab(hour=8, minute=15),
    },
    # Declarations ready 14 and 3 days before a DfE milestone; declarations DfE refused (dfe/reminders.py).
    "declaration-reminders": {
        "task": "notifications.tasks.run_scheduled_job",
        "args": ["declaration_reminders"],
        "schedule": crontab(hour=8, minute=20),
    },
    # The outbox sweeper: re-queues notifications that never reached a worker, whose worker
    # died while sending, or whose next attempt is due.
    "resend-stuck-notifications": {
        "task": "notifications.tasks.run_scheduled_job",
        "args": ["resend_stuck"],
        "schedule": crontab(),
    },
    "tally-engagement-nightly": {
        "task": "engagement.tasks.tally_all_courses",
        "schedule": crontab(hour=1, minute=30),
    },
    "expire-unfinished-applications": {
        "task": "applications.tasks.expire_unfinished_applications",
        "schedule": crontab(hour=2, minute=0),
    },
    "clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=15),
    },
    # A freed place is offered by a job queued after the withdrawal; this sweep catches any whose
    # job never ran (decisions.md, 30).
    "offer-waiting-lists": {
        "task": "applications.tasks.offer_waiting_lists",
        "schedule": crontab(minute="*/5"),
    },
    "fail-stale-imports": {
        "task": "funding.tasks.fail_stale_imports",
        "schedule": crontab(minute="*/5"),
    },
    # Deletes or anonymises what the retention schedule says is due (privacy/retention/).
    "apply-retention-schedule": {
        "task": "privacy.tasks.apply_retention_schedule",
        "schedule": crontab(hour=3, minute=45),
    },
    # DfE's lead provider API (dfe/): read changed applications, and send any change to DfE whose
    # task never ran or whose result was uncertain (decisions.md, 38). Both do nothing when
    # DFE_API_URL is not set.
    "dfe-sync-applications": {
        "task": "dfe.tasks.sync_applications",
        "schedule": crontab(minute="*/15"),
    },
    "dfe-send-changes": {
        "task": "dfe.tasks.send_changes",
        "schedule": crontab(minute="*/5"),
    },
}
