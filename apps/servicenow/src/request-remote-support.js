// UI Action "Request remote support" (incident form button, server side): asks rs-bridge for a
// BeyondTrust session key now. rs-bridge writes it on the incident (comment and work note, as its rules
// say) and answers with it, so the agent sees the key at once.
(function requestRemoteSupport(current, action) {
  var HINTS = {
    unauthorized: 'rs-bridge does not accept the API token in x_rsb.api_token.',
    not_found: 'rs-bridge has no ServiceNow configured.',
    validation_failed: 'rs-bridge could not use the request.',
    session_key_refused: 'BeyondTrust refused to create a session key (the reason is also in the work notes).',
    appliance_unavailable: 'BeyondTrust cannot be reached right now; try again in a minute.',
    ticket_write_failed: 'The key was made but could not be written on the incident; click again to finish (no second key is made).',
  };
  var base = String(gs.getProperty('x_rsb.api_url', '')).replace(/\/+$/, '');
  if (!base) {
    gs.addErrorMessage('Remote support is not set up: set the system property x_rsb.api_url to the rs-bridge URL.');
    action.setRedirectURL(current);
    return;
  }
  // A click that failed half-way is retried with the same key, so no second session key is made.
  var pendingKey = 'x_rsb.pending.' + current.getUniqueValue();
  var idempotencyKey = gs.getSession().getClientData(pendingKey) || gs.generateGUID();
  var request = new sn_ws.RESTMessageV2();
  request.setEndpoint(base + '/api/v1/tickets/servicenow/' + current.getUniqueValue() + '/session-key');
  request.setHttpMethod('POST');
  request.setHttpTimeout(30000);
  request.setRequestHeader('Authorization', 'Bearer ' + gs.getProperty('x_rsb.api_token'));
  request.setRequestHeader('Content-Type', 'application/json');
  request.setRequestHeader('Idempotency-Key', idempotencyKey);
  request.setRequestBody(
    JSON.stringify({
      number: current.getValue('number'),
      subject: current.getValue('short_description'),
      priority: current.getDisplayValue('priority'),
      group: current.getDisplayValue('assignment_group'),
      requester: { name: current.caller_id.getDisplayValue(), email: current.caller_id.email.toString() || undefined },
    }),
  );
  var response = request.execute();
  var status = response.getStatusCode();
  var body = {};
  try {
    body = JSON.parse(response.getBody() || '{}');
  } catch (e) {
    body = {};
  }
  if (status == 201) {
    gs.getSession().putClientData(pendingKey, '');
    gs.addInfoMessage(
      'Session key ' +
        body.shortKey +
        ' sent to the caller (' +
        body.keyUrl +
        '), valid until ' +
        body.expiresAt +
        ', queue ' +
        body.queue +
        '.',
    );
  } else {
    var error = body.error || {};
    if (error.code == 'ticket_write_failed') gs.getSession().putClientData(pendingKey, idempotencyKey);
    else gs.getSession().putClientData(pendingKey, '');
    var hint =
      HINTS[error.code] ||
      (status ? 'rs-bridge answered HTTP ' + status + '.' : 'rs-bridge could not be reached: ' + response.getErrorMessage());
    gs.addErrorMessage(hint + (error.message ? ' ' + error.message : ''));
  }
  action.setRedirectURL(current);
})(current, action);
