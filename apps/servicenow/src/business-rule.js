(function executeRule(current, previous) {
  var secret = gs.getProperty('x_rsb.webhook_secret');
  var body = JSON.stringify({
    action: 'session.requested',
    delivery_id: gs.generateGUID(), // one per request; a resend with the same id is ignored
    table: current.getTableName(),
    sys_id: current.getUniqueValue(),
    number: current.getValue('number'),
    short_description: current.getValue('short_description'),
    priority: current.getDisplayValue('priority'), // "1 - Critical"
    assignment_group: current.getDisplayValue('assignment_group'),
    caller: { name: current.caller_id.getDisplayValue(), email: current.caller_id.email.toString() },
    fields: { category: current.getValue('category') }, // anything the routing rules refer to
  });
  // X-RSB-Timestamp: now, in UNIX seconds. X-RSB-Signature: base64 HMAC-SHA256, keyed with the secret,
  // of the timestamp, a dot and the exact body. rs-bridge refuses a timestamp more than
  // RSB_WEBHOOK_TOLERANCE_SECONDS (300 s) away from its clock: a captured request is useless after that.
  var timestamp = String(Math.floor(new GlideDateTime().getNumericValue() / 1000));
  var mac = new CertificateEncryption().generateMac(GlideStringUtil.base64Encode(secret), 'HmacSHA256', timestamp + '.' + body);
  var request = new sn_ws.RESTMessageV2();
  request.setEndpoint(gs.getProperty('x_rsb.url'));
  request.setHttpMethod('POST');
  request.setRequestHeader('Content-Type', 'application/json');
  request.setRequestHeader('X-RSB-Timestamp', timestamp);
  request.setRequestHeader('X-RSB-Signature', mac);
  request.setRequestBody(body);
  var response = request.execute();
  if (response.getStatusCode() != 202) gs.error('rs-bridge answered ' + response.getStatusCode() + ': ' + response.getBody());
})(current, previous);
