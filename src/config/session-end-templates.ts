/**
 * The shipped session-end templates (Liquid). `session` is the view built in src/session-end/transcript.ts
 * (plus `session.recordingsOnNote` in the note: the recordings' own lines follow the note, Zendesk);
 * docs/rules.md lists its fields. HTML templates escape every value; notes are split at line breaks
 * when a ticket system's size limit demands, so each line of an HTML note stands on its own.
 */

const SUMMARY_TEXT = `Remote support session {{ session.lsid }}{% if session.externalKey %} (external key {{ session.externalKey }}){% endif %}
Started {{ session.start }} · ended {{ session.end }} · duration {{ session.duration }}
Customer: {{ session.customer.name }}{% if session.customer.hostname %} ({{ session.customer.hostname }}, {{ session.customer.os }}, {{ session.customer.ip }}){% endif %}
Representatives: {% for r in session.reps %}{{ r.name }}{% if r.primary %} (primary){% endif %}{% unless forloop.last %}, {% endunless %}{% else %}none{% endfor %}{% if session.teams.size > 0 %} · teams: {{ session.teams | join: ", " }}{% endif %}
{% if session.custom.size > 0 %}Custom attributes: {% for c in session.custom %}{{ c.name }}={{ c.value }}{% unless forloop.last %}, {% endunless %}{% endfor %}
{% endif %}{% if session.systemInfo.size > 0 %}System: {% for s in session.systemInfo %}{{ s.category }}: {{ s.summary }}{% unless forloop.last %}; {% endunless %}{% endfor %}
{% endif %}{% if session.files.size > 0 %}
File transfers:
{% for f in session.files %}- [{{ f.time }}] {{ f.direction }} {{ f.name }}{% if f.size %} ({{ f.size }} bytes){% endif %}{% if f.by %} by {{ f.by }}{% endif %}
{% endfor %}{% endif %}{% if session.notes.size > 0 %}
Session notes:
{% for n in session.notes %}- [{{ n.time }}] {{ n.by }}: {{ n.text }}
{% endfor %}{% endif %}{% if session.surveys.customer.size > 0 %}
Customer exit survey:
{% for q in session.surveys.customer %}- {{ q.question }}: {{ q.answer }}
{% endfor %}{% endif %}{% if session.surveys.rep.size > 0 %}
Representative exit survey:
{% for q in session.surveys.rep %}- {{ q.question }}: {{ q.answer }}
{% endfor %}{% endif %}{% if session.recordings.size > 0 %}{% unless session.recordingsOnNote %}
Recordings: {% for r in session.recordings %}{{ r.label }}{% unless forloop.last %}, {% endunless %}{% endfor %} (added separately)
{% endunless %}{% endif %}`;

const CHAT_TEXT = `{% if session.chat.size > 0 %}
Chat transcript:
{% for m in session.chat %}{% if m.system %}[{{ m.time }}] * {{ m.text }}{% else %}[{{ m.time }}] {{ m.speaker }}: {{ m.text }}{% endif %}
{% endfor %}{% endif %}`;

export const DEFAULT_NOTE_TEXT = SUMMARY_TEXT + CHAT_TEXT;

export const DEFAULT_NOTE_HTML = `<p><strong>Remote support session</strong> {{ session.lsid }}{% if session.externalKey %} (external key {{ session.externalKey }}){% endif %}</p>
<p>Started {{ session.start }} · ended {{ session.end }} · duration {{ session.duration }}</p>
<p><strong>Customer</strong>: {{ session.customer.name }}{% if session.customer.hostname %} ({{ session.customer.hostname }}, {{ session.customer.os }}, {{ session.customer.ip }}){% endif %}</p>
<p><strong>Representatives</strong>: {% for r in session.reps %}{{ r.name }}{% if r.primary %} (primary){% endif %}{% unless forloop.last %}, {% endunless %}{% else %}none{% endfor %}{% if session.teams.size > 0 %} · teams: {{ session.teams | join: ", " }}{% endif %}</p>
{% if session.custom.size > 0 %}<p><strong>Custom attributes</strong>: {% for c in session.custom %}{{ c.name }}={{ c.value }}{% unless forloop.last %}, {% endunless %}{% endfor %}</p>
{% endif %}{% if session.systemInfo.size > 0 %}<p><strong>System</strong>: {% for s in session.systemInfo %}{{ s.category }}: {{ s.summary }}{% unless forloop.last %}; {% endunless %}{% endfor %}</p>
{% endif %}{% if session.files.size > 0 %}<p><strong>File transfers</strong></p>
{% for f in session.files %}<p>[{{ f.time }}] {{ f.direction }} {{ f.name }}{% if f.size %} ({{ f.size }} bytes){% endif %}{% if f.by %} by {{ f.by }}{% endif %}</p>
{% endfor %}{% endif %}{% if session.notes.size > 0 %}<p><strong>Session notes</strong></p>
{% for n in session.notes %}<p>[{{ n.time }}] {{ n.by }}: {{ n.text }}</p>
{% endfor %}{% endif %}{% if session.surveys.customer.size > 0 %}<p><strong>Customer exit survey</strong></p>
{% for q in session.surveys.customer %}<p>{{ q.question }}: {{ q.answer }}</p>
{% endfor %}{% endif %}{% if session.surveys.rep.size > 0 %}<p><strong>Representative exit survey</strong></p>
{% for q in session.surveys.rep %}<p>{{ q.question }}: {{ q.answer }}</p>
{% endfor %}{% endif %}{% if session.recordings.size > 0 %}{% unless session.recordingsOnNote %}<p><strong>Recordings</strong>: {% for r in session.recordings %}{{ r.label }}{% unless forloop.last %}, {% endunless %}{% endfor %} (added separately)</p>
{% endunless %}{% endif %}{% if session.chat.size > 0 %}<p><strong>Chat transcript</strong></p>
{% for m in session.chat %}{% if m.system %}<p><em>[{{ m.time }}] {{ m.text }}</em></p>{% else %}<p>[{{ m.time }}] <strong>{{ m.speaker }}</strong>: {{ m.text }}</p>{% endif %}
{% endfor %}{% endif %}`;

/** The attached file: everything, including every event of the session log. */
export const DEFAULT_TRANSCRIPT_TEXT = `${DEFAULT_NOTE_TEXT}
Session log:
{% for e in session.events %}[{{ e.time }}] {{ e.type }}{% if e.by %} by {{ e.by }}{% endif %}{% if e.detail %}: {{ e.detail }}{% endif %}
{% endfor %}`;

export const DEFAULT_TRANSCRIPT_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>Session {{ session.lsid }}</title></head><body>
${DEFAULT_NOTE_HTML}<h3>Session log</h3>
<table><tr><th>Time</th><th>Event</th><th>By</th><th>Detail</th></tr>
{% for e in session.events %}<tr><td>{{ e.time }}</td><td>{{ e.type }}</td><td>{{ e.by }}</td><td>{{ e.detail }}</td></tr>
{% endfor %}</table>
</body></html>`;

/** A survey that arrived after the session's note was written. */
export const DEFAULT_SURVEY_TEXT = `{% if survey.who == "customer" %}Customer{% else %}Representative{% endif %} exit survey for remote support session {{ session.lsid }}:
{% for q in survey.answers %}- {{ q.question }}: {{ q.answer }}
{% endfor %}`;

/** A recording over the attachment limit, or a ticket system that takes no files. */
export const DEFAULT_RECORDING_LINK = `The {{ recording.label }} of remote support session {{ session.lsid }} ({{ recording.size }}) is not attached: {{ recording.reason }}.
View it on the appliance: {{ recording.viewUrl }}
Download: {{ recording.downloadUrl }}`;

export const DEFAULT_TICKET_SUBJECT = `Remote support session with {{ session.customer.name }}{% if session.externalKey %} ({{ session.externalKey }}){% endif %}`;

/** A session that could not be written for good (the report refused, the ticket system refusing the note). */
export const DEFAULT_SESSION_FAILURE_NOTE = `rs-bridge could not write remote support session {{ session.lsid }} to this ticket: {{ error.message }}
Missing: {{ missing }}.
Once the cause is fixed, an operator can write it again with POST {{ resyncPath }} (what is already here is not written twice).`;
