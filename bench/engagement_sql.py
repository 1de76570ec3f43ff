"""The statements the engagement benchmark (bench/engagement.py) runs beside the portal's tally:
the fastest correct SQL found, the statement the portal used before, and the checksum both
sides' stored numbers are compared by."""

# The fastest correct statement found: driven by the marks. Per (course, group) of live
# participants, the weights due, to come, and due without a record for the group (no register,
# no LMS import after its date, not a task a week late), from the course's activities joined by
# course and the group's by group; then one pass over the marks, each counted where its activity
# is one of its participant's (a condition of the sums: as a join condition the planner would
# expect a few thousand rows and sort millions on disk). Weights in hundredths: integer sums.
MARKS_DRIVEN = """
WITH g AS (
  SELECT DISTINCT course_id, group_id FROM programmes_participant WHERE status IN ('active', 'deferred')
), base AS (
  SELECT ga.course_id, ga.group_id,
         SUM(ga.w) FILTER (WHERE ga.due) AS due_all,
         SUM(ga.w) FILTER (WHERE NOT ga.due) AS future,
         SUM(ga.w) FILTER (WHERE ga.due AND NOT ga.recorded AND r.id IS NULL) AS unrecorded
    FROM (SELECT g.course_id, g.group_id, x.id, x.w, x.due, x.recorded
            FROM g JOIN (SELECT id, course_id, group_id, round(weight * 100)::int AS w,
                 COALESCE(starts_at < %(tomorrow)s, false) OR COALESCE(due_on <= %(today)s, false) AS due,
                 COALESCE(imported_on > due_on, false)
                   OR COALESCE(imported_on > (starts_at AT TIME ZONE 'Europe/London')::date, false)
                   OR COALESCE(starts_at IS NULL AND due_on <= %(grace)s, false) AS recorded
            FROM programmes_activity WHERE required AND counts_towards_engagement) x ON x.course_id = g.course_id AND x.group_id IS NULL
          UNION ALL
          SELECT g.course_id, g.group_id, x.id, x.w, x.due, x.recorded
            FROM g JOIN (SELECT id, course_id, group_id, round(weight * 100)::int AS w,
                 COALESCE(starts_at < %(tomorrow)s, false) OR COALESCE(due_on <= %(today)s, false) AS due,
                 COALESCE(imported_on > due_on, false)
                   OR COALESCE(imported_on > (starts_at AT TIME ZONE 'Europe/London')::date, false)
                   OR COALESCE(starts_at IS NULL AND due_on <= %(grace)s, false) AS recorded
            FROM programmes_activity WHERE required AND counts_towards_engagement) x ON x.group_id = g.group_id AND x.course_id = g.course_id) ga
    LEFT JOIN programmes_register r ON r.activity_id = ga.id AND COALESCE(r.group_id, 0) = COALESCE(ga.group_id, 0)
   GROUP BY ga.course_id, ga.group_id
), marks AS (
  -- Each mark counts where its activity is one of the participant's (its course, their group):
  -- a condition of the sums, not of the join, so the planner knows it aggregates every mark.
  SELECT m.participant_id,
         SUM(x.w) FILTER (WHERE x.due AND m.status IN ('attended', 'completed') AND x.course_id = p.course_id
                            AND (x.group_id IS NULL OR x.group_id = p.group_id)) AS done,
         SUM(x.w) FILTER (WHERE x.due AND m.status = 'excused' AND x.course_id = p.course_id
                            AND (x.group_id IS NULL OR x.group_id = p.group_id)) AS excused_due,
         SUM(x.w) FILTER (WHERE NOT x.due AND m.status = 'excused' AND x.course_id = p.course_id
                            AND (x.group_id IS NULL OR x.group_id = p.group_id)) AS excused_future,
         SUM(x.w) FILTER (WHERE x.due AND NOT x.recorded AND r.id IS NULL AND x.course_id = p.course_id
                            AND (x.group_id IS NULL OR x.group_id = p.group_id)) AS marked_unrecorded
    FROM programmes_attendance m
    JOIN programmes_participant p ON p.id = m.participant_id AND p.status IN ('active', 'deferred')
    JOIN (SELECT id, course_id, group_id, round(weight * 100)::int AS w,
                 COALESCE(starts_at < %(tomorrow)s, false) OR COALESCE(due_on <= %(today)s, false) AS due,
                 COALESCE(imported_on > due_on, false)
                   OR COALESCE(imported_on > (starts_at AT TIME ZONE 'Europe/London')::date, false)
                   OR COALESCE(starts_at IS NULL AND due_on <= %(grace)s, false) AS recorded
            FROM programmes_activity WHERE required AND counts_towards_engagement) x ON x.id = m.activity_id
    LEFT JOIN programmes_register r ON r.activity_id = m.activity_id AND COALESCE(r.group_id, 0) = COALESCE(p.group_id, 0)
   GROUP BY m.participant_id
), t AS (
  SELECT p.id AS pk, p.course_id,
         COALESCE(k.done, 0) AS done,
         b.due_all - COALESCE(k.excused_due, 0) AS due_all,
         b.due_all - COALESCE(k.excused_due, 0) - (COALESCE(b.unrecorded, 0) - COALESCE(k.marked_unrecorded, 0)) AS due,
         COALESCE(b.future, 0) - COALESCE(k.excused_future, 0) AS future
    FROM programmes_participant p
    JOIN base b ON b.course_id = p.course_id AND COALESCE(b.group_id, 0) = COALESCE(p.group_id, 0)
    LEFT JOIN marks k ON k.participant_id = p.id
   WHERE p.status IN ('active', 'deferred')
)
INSERT INTO programmes_engagementtally (participant_id, course_id, percent, done_weight, due_weight,
                                        awaiting_weight, projected_percent, on_track, computed_at)
SELECT pk, course_id,
       CASE WHEN due > 0 THEN round(done * 100.0 / due, 2) END,
       done / 100.0, due / 100.0, (due_all - due) / 100.0,
       CASE WHEN due_all + future > 0 THEN round((done + due_all - due + future) * 100.0 / (due_all + future), 2) END,
       due = 0 OR done * 100 >= 90 * due,
       now()
  FROM t
ON CONFLICT (participant_id) DO UPDATE SET course_id = EXCLUDED.course_id,
  percent = EXCLUDED.percent, done_weight = EXCLUDED.done_weight, due_weight = EXCLUDED.due_weight,
  awaiting_weight = EXCLUDED.awaiting_weight, projected_percent = EXCLUDED.projected_percent,
  on_track = EXCLUDED.on_track, computed_at = EXCLUDED.computed_at
"""

# What the portal ran before (and the earlier bench's "hand-written" baseline): participants
# joined to every activity of their course, filtered by group afterwards (99M rows thrown away
# at 100,000 participants), with the marks and registers left-joined. Kept for --explain.
JOINED_BY_COURSE = """
SELECT p.id,
       COALESCE(SUM(a.weight) FILTER (WHERE (a.starts_at < %(tomorrow)s OR a.due_on <= %(today)s)
                                       AND m.status IN ('attended', 'completed')), 0) AS done
  FROM programmes_participant p
  JOIN programmes_activity a ON a.course_id = p.course_id AND (a.group_id IS NULL OR a.group_id = p.group_id)
       AND a.required AND a.counts_towards_engagement
  LEFT JOIN programmes_attendance m ON m.activity_id = a.id AND m.participant_id = p.id
  LEFT JOIN programmes_register r ON r.activity_id = a.id
       AND (r.group_id = p.group_id OR (r.group_id IS NULL AND p.group_id IS NULL))
 WHERE p.status IN ('active', 'deferred')
 GROUP BY p.id
"""

CHECKSUM = (
    "SELECT count(*), sum(percent), sum(projected_percent), sum(due_weight), sum(awaiting_weight),"
    " count(*) FILTER (WHERE on_track) FROM programmes_engagementtally"
)
