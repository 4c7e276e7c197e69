import { randomUUID } from 'node:crypto';
import { MessageChannel, Worker } from 'node:worker_threads';

/** The record a script sees as `current` (an incident, as the fake ServiceNow holds it). */
export interface GlideRecordData {
  table: string;
  sys_id: string;
  values: Record<string, string>;
  display?: Record<string, string>;
  caller?: { name: string; email: string };
}

export interface GlideRun {
  info: string[];
  errors: string[];
  /** gs.error / gs.warn / gs.info lines (the system log). */
  log: string[];
  requests: { method: string; endpoint: string; headers: Record<string, string>; body?: string; status: number }[];
  redirect?: string;
  clientData: Record<string, string>;
}

/*
 * ServiceNow server scripts are synchronous: RESTMessageV2.execute() blocks until the answer. The
 * script runs in a worker thread (node:vm, stand-ins of the Glide APIs it calls); execute() posts the
 * request to this thread, which makes it for real (the bridge runs here, on this event loop), and waits
 * on a shared flag for the answer.
 */
const WORKER = `
const { workerData, parentPort, receiveMessageOnPort } = require('node:worker_threads');
const vm = require('node:vm');
const crypto = require('node:crypto');
const { source, record, properties, clientData, port, signal } = workerData;
const flag = new Int32Array(signal);
const out = { info: [], errors: [], log: [], requests: [], redirect: undefined, clientData: { ...clientData } };

function http(request) {
  Atomics.store(flag, 0, 0);
  port.postMessage(request);
  Atomics.wait(flag, 0, 0, 60000);
  for (let i = 0; i < 100; i++) {
    const message = receiveMessageOnPort(port);
    if (message) return message.message;
    Atomics.wait(flag, 0, 1, 10);
  }
  return { status: 0, body: '', error: 'no answer' };
}

function RESTMessageV2() { this.method = 'GET'; this.headers = {}; this.body = undefined; this.endpoint = ''; }
RESTMessageV2.prototype.setEndpoint = function (url) { this.endpoint = String(url); };
RESTMessageV2.prototype.setHttpMethod = function (method) { this.method = String(method).toUpperCase(); };
RESTMessageV2.prototype.setRequestHeader = function (name, value) { this.headers[String(name)] = String(value); };
RESTMessageV2.prototype.setRequestBody = function (body) { this.body = String(body); };
RESTMessageV2.prototype.setHttpTimeout = function (ms) { this.timeout = ms; };
RESTMessageV2.prototype.setBasicAuth = function (user, password) {
  this.headers.Authorization = 'Basic ' + Buffer.from(user + ':' + password).toString('base64');
};
RESTMessageV2.prototype.execute = function () {
  const answer = http({ method: this.method, endpoint: this.endpoint, headers: this.headers, body: this.body, timeout: this.timeout });
  out.requests.push({ method: this.method, endpoint: this.endpoint, headers: this.headers, body: this.body, status: answer.status });
  return {
    getStatusCode: () => answer.status,
    getBody: () => answer.body,
    haveError: () => answer.status === 0 || answer.status >= 400,
    getErrorMessage: () => answer.error || '',
  };
};

const value = (v, display) => ({ toString: () => (v == null ? '' : String(v)), getDisplayValue: () => (display == null ? String(v == null ? '' : v) : display) });
const current = {
  getUniqueValue: () => record.sys_id,
  getTableName: () => record.table,
  getValue: (name) => (name in record.values ? record.values[name] : null),
  getDisplayValue: (name) => (record.display && name in record.display ? record.display[name] : name in record.values ? record.values[name] : ''),
  isNewRecord: () => false,
  caller_id: { getDisplayValue: () => (record.caller ? record.caller.name : ''), email: value(record.caller ? record.caller.email : '') },
};
const session = { getClientData: (k) => out.clientData[k] || null, putClientData: (k, v) => { out.clientData[k] = String(v); } };
const gs = {
  getProperty: (name, fallback) => (name in properties ? properties[name] : fallback === undefined ? null : fallback),
  generateGUID: () => crypto.randomUUID().replace(/-/g, ''),
  addInfoMessage: (m) => out.info.push(String(m)),
  addErrorMessage: (m) => out.errors.push(String(m)),
  error: (m) => out.log.push('error: ' + m),
  warn: (m) => out.log.push('warn: ' + m),
  info: (m) => out.log.push('info: ' + m),
  getSession: () => session,
};
const action = { setRedirectURL: (target) => { out.redirect = target === current ? 'current' : String(target); } };
function CertificateEncryption() {}
CertificateEncryption.prototype.generateMac = function (keyBase64, algorithm, data) {
  if (algorithm !== 'HmacSHA256') throw new Error('stand-in knows HmacSHA256 only');
  return crypto.createHmac('sha256', Buffer.from(keyBase64, 'base64')).update(data, 'utf8').digest('base64');
};
const GlideStringUtil = { base64Encode: (s) => Buffer.from(String(s), 'utf8').toString('base64') };
function GlideDateTime() {}
GlideDateTime.prototype.getNumericValue = () => Date.now();

try {
  vm.runInNewContext(source, { current, previous: current, gs, action, sn_ws: { RESTMessageV2 }, CertificateEncryption, GlideStringUtil, GlideDateTime, JSON });
  parentPort.postMessage({ out });
} catch (error) {
  parentPort.postMessage({ error: String(error && error.stack || error) });
}
`;

export async function runGlideScript(
  source: string,
  record: GlideRecordData,
  properties: Record<string, string>,
  clientData: Record<string, string> = {},
): Promise<GlideRun> {
  const { port1, port2 } = new MessageChannel();
  const signal = new SharedArrayBuffer(4);
  const flag = new Int32Array(signal);
  port1.on('message', (request: { method: string; endpoint: string; headers: Record<string, string>; body?: string; timeout?: number }) => {
    void (async () => {
      let answer: { status: number; body: string; error?: string };
      try {
        const res = await fetch(request.endpoint, {
          method: request.method,
          headers: request.headers,
          body: request.body,
          signal: AbortSignal.timeout(request.timeout ?? 60_000),
        });
        answer = { status: res.status, body: await res.text() };
      } catch (error) {
        answer = { status: 0, body: '', error: (error as Error).message };
      }
      port1.postMessage(answer);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    })();
  });
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { source, record, properties, clientData, port: port2, signal },
    transferList: [port2],
    name: `glide-${randomUUID()}`,
  });
  try {
    const result = await new Promise<{ out?: GlideRun; error?: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    if (result.error) throw new Error(`the script failed: ${result.error}`);
    return result.out!;
  } finally {
    port1.close();
    await worker.terminate();
  }
}
