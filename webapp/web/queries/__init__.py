"""The read model of the staff pages and the JSON API: every query they need, with the
need-to-know rule (visibility) applied in one place. Pages and API routes call these and
write no queries of their own; what a complaint's workflow says comes through
webapp.runtime.readmodel, so no web module touches SpiffWorkflow objects.

- visibility: who sees which complaint and task (`open_task`, `visible_tasks`, ...)
- inbox: the inbox and the API's task list
- tasks: one task with its data, history and colleagues; the state after completing it
- complaints: the complaint list, one complaint's records, Berichten, the audit check
- logs: the access log (Inzage) and the audit log (Logboek)
"""

from .complaints import (
    ComplaintRecords,
    Page,
    chain_check,
    complaint_by_reference,
    complaint_list,
    complaint_records,
    diagram_version_of,
    diagram_versions,
    document_of,
    instance,
    known_locations,
    open_complaint,
    outbox_page,
    paged,
)
from .inbox import DUE_SOON, SORTABLE, InboxFilter, InboxPage, InboxRow, OpenTask, inbox, open_tasks
from .logs import access_log_page, audit_log_page
from .tasks import (
    AfterCompletion,
    OpenedTask,
    Person,
    TaskView,
    after_completion,
    colleagues,
    colleagues_in,
    history,
    names_by_email,
    person,
    task_by_engine_id,
    task_for_member,
    task_for_viewer,
    task_view,
)
from .visibility import (
    MEDEWERKER,
    NO_COMPLAINT_ROLES,
    Viewer,
    may_open_complaint,
    may_open_task,
    open_task,
    org_id,
    organisation_ids,
    organisation_of_task,
    viewer_for,
    viewers_of,
    visible_complaints,
    visible_tasks,
    visible_tasks_of,
)

__all__ = ["DUE_SOON", "MEDEWERKER", "NO_COMPLAINT_ROLES", "SORTABLE", "AfterCompletion", "ComplaintRecords",
           "InboxFilter", "access_log_page", "audit_log_page", "InboxPage", "InboxRow", "OpenTask", "OpenedTask", "Page", "Person", "TaskView", "Viewer",
           "after_completion", "chain_check", "colleagues", "colleagues_in", "complaint_by_reference",
           "complaint_list", "complaint_records", "diagram_version_of", "diagram_versions", "document_of",
           "known_locations", "history", "inbox", "instance", "may_open_complaint",
           "may_open_task", "names_by_email", "open_complaint", "open_task", "open_tasks", "org_id", "organisation_ids",
           "organisation_of_task", "outbox_page", "paged", "person", "task_by_engine_id", "task_for_member",
           "task_for_viewer", "task_view", "viewer_for", "viewers_of", "visible_complaints", "visible_tasks",
           "visible_tasks_of"]
