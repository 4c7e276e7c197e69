// UI Action "Remote support sessions" (incident related link, server side): the incident's session
// keys, Jump links and sessions as rs-bridge sees them, newest first, each as a message on the form.
(function showRemoteSupportSessions(current, action) {
  var base = String(gs.getProperty('x_rsb.api_url', '')).replace(/\/+$/, '');
  if (!base) {
    gs.addErrorMessage('Remote support is not set up: set the system property x_rsb.api_url to the rs-bridge URL.');
    action.setRedirectURL(current);
    return;
  }
  var request = new sn_ws.RESTMessageV2();
  request.setEndpoint(base + '/api/v1/tickets/servicenow/' + current.getUniqueValue() + '/sessions');
  request.setHttpMethod('GET');
  request.setHttpTimeout(30000);
  request.setRequestHeader('Authorization', 'Bearer ' + gs.getProperty('x_rsb.api_token'));
  var response = request.execute();
  var status = response.getStatusCode();
  var body = {};
  try {
    body = JSON.parse(response.getBody() || '{}');
  } catch (e) {
    body = {};
  }
  if (status != 200) {
    var error = body.error || {};
    gs.addErrorMessage(
      (status == 401
        ? 'rs-bridge does not accept the API token in x_rsb.api_token. '
        : status
          ? 'rs-bridge answered HTTP ' + status + '. '
          : 'rs-bridge could not be reached. ') + (error.message || response.getErrorMessage() || ''),
    );
    action.setRedirectURL(current);
    return;
  }
  var escape = function (s) {
    return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  };
  if (!body.sessions.length)
    gs.addInfoMessage('No remote support session keys or sessions for ' + escape(current.getValue('number')) + ' yet.');
  for (var i = 0; i < body.sessions.length; i++) {
    var s = body.sessions[i];
    var title = s.kind == 'session_key' ? 'Session key ' + s.shortKey : s.kind == 'jump' ? 'Jump' : 'Session';
    var state =
      s.state == 'failed'
        ? 'not created'
        : s.state == 'key_issued'
          ? s.expired
            ? 'key expired without a session'
            : 'issued, not used yet' + (s.expiresAt ? ' (valid until ' + s.expiresAt + ')' : '')
          : s.state == 'waiting'
            ? 'waiting' + (s.queue ? ' in queue ' + s.queue : '') + (s.estimatedPickupAt ? ', pickup expected ' + s.estimatedPickupAt : '')
            : s.state == 'in_progress'
              ? 'in progress with ' + (s.representative || 'a representative')
              : 'ended' +
                (s.durationSeconds != null ? ' after ' + s.durationSeconds + ' s' : '') +
                (s.representative ? ', with ' + s.representative : '');
    var written = [];
    if (s.writtenBack) {
      if (s.writtenBack.transcriptNote) written.push('transcript in the work notes');
      for (var r = 0; r < s.writtenBack.recordings.length; r++)
        written.push(s.writtenBack.recordings[r].kind + ' recording ' + s.writtenBack.recordings[r].result);
    }
    var failures = [];
    for (var f = 0; f < s.failures.length; f++)
      failures.push(
        s.failures[f].step == 'session_key'
          ? 'BeyondTrust refused the key: ' + s.failures[f].reason
          : s.failures[f].step + ' not written: ' + s.failures[f].reason + (s.failures[f].retrying ? ' (retrying)' : ''),
      );
    var text = escape(title) + ': ' + escape(state) + (written.length ? '; ' + escape(written.join(', ')) : '');
    if (failures.length) gs.addErrorMessage(text + '; ' + escape(failures.join('; ')));
    else gs.addInfoMessage(text);
  }
  action.setRedirectURL(current);
})(current, action);
