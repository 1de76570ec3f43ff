# The engagement models, moved out of programmes (decisions.md, 41) with their tables unchanged.

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("programmes", "0008_participant_trn_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The tables stay where they are (programmes_*): this only tells Django's state that the
    # models now belong to engagement. programmes 0009 removes them from programmes' state.
    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Activity",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "code",
                            models.SlugField(
                                help_text="Used to match LMS completion exports.", max_length=60
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("induction_conference", "Induction conference"),
                                    ("online_study_unit", "Online study unit"),
                                    ("seminar", "Seminar"),
                                    ("peer_learning_group", "Peer learning group"),
                                    ("webinar", "Webinar"),
                                    ("face_to_face_day", "Face-to-face day"),
                                    ("conference", "Conference"),
                                    ("school_visit", "School visit"),
                                    ("diagnostic", "Diagnostic activity"),
                                    ("formative_reflection", "Formative reflection"),
                                    ("mentor_checkin", "Mentor check-in"),
                                ],
                                max_length=30,
                            ),
                        ),
                        ("title", models.CharField(max_length=200)),
                        (
                            "starts_at",
                            models.DateTimeField(blank=True, help_text="For a session.", null=True),
                        ),
                        ("ends_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "due_on",
                            models.DateField(blank=True, help_text="For a task with a deadline.", null=True),
                        ),
                        ("weight", models.DecimalField(decimal_places=2, default=1, max_digits=6)),
                        ("required", models.BooleanField(default=True)),
                        ("counts_towards_engagement", models.BooleanField(default=True)),
                        (
                            "imported_on",
                            models.DateField(
                                blank=True,
                                editable=False,
                                help_text="The last day an LMS import included this activity (see engagement.tally).",
                                null=True,
                            ),
                        ),
                        (
                            "course",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="activities",
                                to="programmes.course",
                            ),
                        ),
                        (
                            "group",
                            models.ForeignKey(
                                blank=True,
                                help_text="Leave empty for an activity of the whole course.",
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="activities",
                                to="programmes.group",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "activities",
                        "db_table": "programmes_activity",
                        "ordering": ["course", "starts_at", "due_on", "title"],
                    },
                ),
                migrations.CreateModel(
                    name="Attendance",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("attended", "Attended"),
                                    ("completed", "Completed"),
                                    ("absent", "Absent"),
                                    ("excused", "Excused (exceptional circumstances)"),
                                ],
                                max_length=10,
                            ),
                        ),
                        ("recorded_at", models.DateTimeField(auto_now=True)),
                        (
                            "completed_at",
                            models.DateTimeField(
                                blank=True, help_text="When the LMS says it was completed.", null=True
                            ),
                        ),
                        (
                            "activity",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="attendances",
                                to="engagement.activity",
                            ),
                        ),
                        (
                            "participant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="attendances",
                                to="programmes.participant",
                            ),
                        ),
                        (
                            "recorded_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "attendance mark",
                        "db_table": "programmes_attendance",
                        "ordering": ["activity", "participant"],
                    },
                ),
                migrations.CreateModel(
                    name="CalendarFeed",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("token", models.CharField(max_length=64, unique=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="calendar_feed",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "programmes_calendarfeed",
                    },
                ),
                migrations.CreateModel(
                    name="EngagementTally",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "percent",
                            models.DecimalField(
                                blank=True,
                                decimal_places=2,
                                help_text="Weighted share of required activities due and recorded so far that were completed; empty: none counted yet.",
                                max_digits=5,
                                null=True,
                            ),
                        ),
                        ("done_weight", models.DecimalField(decimal_places=2, default=0, max_digits=9)),
                        (
                            "due_weight",
                            models.DecimalField(
                                decimal_places=2,
                                default=0,
                                help_text="The basis: activities due so far and recorded (done or missed), excused ones left out.",
                                max_digits=9,
                            ),
                        ),
                        (
                            "awaiting_weight",
                            models.DecimalField(
                                decimal_places=2,
                                default=0,
                                help_text="Activities due so far whose register or LMS record has not come in yet (not counted).",
                                max_digits=9,
                            ),
                        ),
                        (
                            "projected_percent",
                            models.DecimalField(
                                blank=True,
                                decimal_places=2,
                                help_text="The engagement at the end of the course if every activity still possible (to come or awaiting its record) is completed.",
                                max_digits=5,
                                null=True,
                            ),
                        ),
                        ("on_track", models.BooleanField(default=True)),
                        ("computed_at", models.DateTimeField()),
                        (
                            "participant",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="tally",
                                to="programmes.participant",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "engagement tallies",
                        "db_table": "programmes_engagementtally",
                    },
                ),
                migrations.CreateModel(
                    name="HistoricalAttendance",
                    fields=[
                        (
                            "id",
                            models.BigIntegerField(
                                auto_created=True, blank=True, db_index=True, verbose_name="ID"
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("attended", "Attended"),
                                    ("completed", "Completed"),
                                    ("absent", "Absent"),
                                    ("excused", "Excused (exceptional circumstances)"),
                                ],
                                max_length=10,
                            ),
                        ),
                        ("recorded_at", models.DateTimeField(blank=True, editable=False)),
                        (
                            "completed_at",
                            models.DateTimeField(
                                blank=True, help_text="When the LMS says it was completed.", null=True
                            ),
                        ),
                        ("history_id", models.AutoField(primary_key=True, serialize=False)),
                        ("history_date", models.DateTimeField(db_index=True)),
                        ("history_change_reason", models.CharField(max_length=100, null=True)),
                        (
                            "history_type",
                            models.CharField(
                                choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                            ),
                        ),
                        (
                            "activity",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="engagement.activity",
                            ),
                        ),
                        (
                            "history_user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "participant",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="programmes.participant",
                            ),
                        ),
                        (
                            "recorded_by",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "historical attendance mark",
                        "verbose_name_plural": "historical attendance marks",
                        "db_table": "programmes_historicalattendance",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="MentorCheckin",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("held_on", models.DateField()),
                        ("notes", models.TextField(blank=True)),
                        ("mentor_name", models.CharField(max_length=200)),
                        ("mentor_email", models.EmailField(max_length=254)),
                        ("token_hash", models.CharField(max_length=64, unique=True)),
                        ("requested_at", models.DateTimeField()),
                        ("expires_at", models.DateTimeField()),
                        ("confirmed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "participant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="checkins",
                                to="programmes.participant",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "mentor check-in",
                        "db_table": "programmes_mentorcheckin",
                        "ordering": ["held_on"],
                    },
                ),
                migrations.CreateModel(
                    name="Register",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("taken_at", models.DateTimeField(help_text="When the register was last saved.")),
                        (
                            "activity",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="registers",
                                to="engagement.activity",
                            ),
                        ),
                        (
                            "group",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="registers",
                                to="programmes.group",
                            ),
                        ),
                        (
                            "taken_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "programmes_register",
                    },
                ),
                migrations.AddConstraint(
                    model_name="activity",
                    constraint=models.UniqueConstraint(
                        fields=("course", "code"), name="activity_code_unique_in_course"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="activity",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("starts_at__isnull", False), ("due_on__isnull", False), _connector="OR"
                        ),
                        name="activity_has_date_or_due_date",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="activity",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("weight__gte", 0)), name="activity_weight_not_negative"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="activity",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("ends_at__isnull", True),
                            ("ends_at__gte", models.F("starts_at")),
                            _connector="OR",
                        ),
                        name="activity_ends_after_it_starts",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="attendance",
                    constraint=models.UniqueConstraint(
                        fields=("participant", "activity"), name="attendance_one_mark_per_activity"
                    ),
                ),
                migrations.AddIndex(
                    model_name="engagementtally",
                    index=models.Index(fields=["on_track"], name="programmes__on_trac_3668c3_idx"),
                ),
                migrations.AddConstraint(
                    model_name="register",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("group__isnull", False)),
                        fields=("activity", "group"),
                        name="register_one_per_activity_and_group",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="register",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("group__isnull", True)),
                        fields=("activity",),
                        name="register_one_per_activity_without_group",
                    ),
                ),
            ],
        ),
    ]
