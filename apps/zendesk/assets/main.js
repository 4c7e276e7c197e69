/*
 * rs-bridge ticket sidebar. Every call to the bridge goes through Zendesk's proxy (client.request with
 * secure: true): Zendesk puts the API token in place of {{setting.api_token}} on its side, so the
 * token never reaches the agent's browser.
 */
(function () {
  'use strict';

  /** While a key may still be used or a session runs, the list is read again this often. */
  var REFRESH_MS = 4000;

  /** What the agent is told for each error code the bridge answers; the bridge's own message follows. */
  var HINTS = {
    unauthorized: "rs-bridge does not accept this app's API token: ask an admin to check the app's settings.",
    forbidden: "rs-bridge refused this app's API token.",
    not_found: 'rs-bridge is not set up for this.',
    validation_failed: 'rs-bridge could not use the request.',
    ticket_not_found: 'rs-bridge cannot find this ticket.',
    session_key_refused: 'BeyondTrust refused to create a session key (the reason is also noted on the ticket).',
    appliance_unavailable: 'BeyondTrust cannot be reached right now; try again in a minute.',
    ticket_write_failed: 'The key was made but could not be written on the ticket; click again to finish (no second key is made).',
    ticket_system_unavailable: 'Zendesk could not be asked about this ticket; try again in a minute.',
    visitor_not_found: 'The customer is not on the site right now.',
    upscope_refused: 'Upscope refused the co-browse.',
    upscope_unavailable: 'Upscope cannot be reached right now; try again in a minute.',
    jump_refused: 'The Jump could not be prepared (the reason is also noted on the ticket).',
    rate_limited: 'rs-bridge is busy; try again in a minute.',
  };

  var client = window.ZAFClient.init();
  var settings = {};
  var ticket = {};
  var agent = {};
  var jumpTarget = '';
  var refreshTimer;
  /** A click that failed half-way is retried with the same Idempotency-Key, so nothing is done twice. */
  var retryKeys = {};

  var $ = function (id) {
    return document.getElementById(id);
  };

  function newKey() {
    return window.crypto && window.crypto.randomUUID
      ? window.crypto.randomUUID()
      : String(Date.now()) + Math.random().toString(16).slice(2);
  }

  function resize() {
    client.invoke('resize', { width: '100%', height: Math.ceil(document.body.scrollHeight) + 8 + 'px' });
  }

  function say(text) {
    $('status').textContent = text || '';
    resize();
  }

  function fail(text) {
    $('error').textContent = text || '';
    $('error').hidden = !text;
    resize();
  }

  /** The bridge's JSON error envelope out of what Zendesk's proxy rejected with. */
  function explain(error) {
    var status = error && error.status;
    var body = error && error.responseJSON;
    if (!body && error && typeof error.responseText === 'string') {
      try {
        body = JSON.parse(error.responseText);
      } catch (e) {
        body = undefined;
      }
    }
    var detail = body && body.error;
    if (!detail)
      return status ? 'rs-bridge answered HTTP ' + status + '.' : 'rs-bridge could not be reached. Check its URL in the app settings.';
    var code = detail.code === 'rate_limited' || status === 429 ? 'rate_limited' : detail.code;
    return [HINTS[code], detail.message].filter(Boolean).join(' ');
  }

  function bridge(method, path, body, idempotencyKey) {
    var headers = { Authorization: 'Bearer {{setting.api_token}}' };
    if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
    return client.request({
      url: settings.bridge_url.replace(/\/+$/, '') + '/api/v1/tickets/zendesk/' + encodeURIComponent(ticket.id) + path,
      type: method,
      contentType: 'application/json',
      data: body ? JSON.stringify(body) : undefined,
      dataType: 'json',
      headers: headers,
      secure: true,
      cors: false,
    });
  }

  function ticketBody() {
    return {
      number: String(ticket.id),
      subject: ticket.subject || undefined,
      requester: ticket.requester && ticket.requester.email ? { name: ticket.requester.name, email: ticket.requester.email } : undefined,
      tags: ticket.tags || undefined,
    };
  }

  /** One button: disabled while it runs, its outcome said in the status line or the alert. */
  function action(button, name, run) {
    $(button).addEventListener('click', function () {
      var key = retryKeys[name] || newKey();
      $(button).disabled = true;
      fail('');
      say('Working…');
      run(key)
        .then(function (text) {
          delete retryKeys[name];
          say(text);
          return refresh();
        })
        .catch(function (error) {
          // Only a half-done call (key made, ticket not written) keeps its key for the retry.
          var body = error && (error.responseJSON || safeParse(error.responseText));
          if (body && body.error && body.error.code === 'ticket_write_failed') retryKeys[name] = key;
          else delete retryKeys[name];
          say('');
          fail(explain(error));
        })
        .then(function () {
          $(button).disabled = false;
        });
    });
  }

  function safeParse(text) {
    try {
      return JSON.parse(text);
    } catch (e) {
      return undefined;
    }
  }

  function time(iso) {
    var d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString();
  }

  function duration(seconds) {
    var m = Math.floor(seconds / 60);
    return (m ? m + ' min ' : '') + (seconds % 60) + ' s';
  }

  function describe(item) {
    var lines = [];
    if (item.state === 'key_issued')
      lines.push(
        item.kind === 'jump'
          ? 'Jump link issued, not used yet'
          : item.expired
            ? 'Key expired without a session'
            : 'Key issued, not used yet' + (item.expiresAt ? ' (valid until ' + time(item.expiresAt) + ')' : ''),
      );
    else if (item.state === 'failed') lines.push('Key not created');
    else if (item.state === 'waiting')
      lines.push(
        'Waiting' +
          (item.queue ? ' in queue ' + item.queue : '') +
          (item.estimatedPickupAt ? ', pickup expected ' + time(item.estimatedPickupAt) : ''),
      );
    else if (item.state === 'in_progress') lines.push('In progress with ' + (item.representative || 'a representative'));
    else
      lines.push(
        'Ended' +
          (item.durationSeconds !== undefined ? ' after ' + duration(item.durationSeconds) : '') +
          (item.representative ? ', with ' + item.representative : ''),
      );
    return lines[0];
  }

  function render(view) {
    var list = $('sessions');
    list.textContent = '';
    $('empty').hidden = view.sessions.length > 0;
    view.sessions.forEach(function (item) {
      var li = document.createElement('li');
      li.dataset.state = item.state;
      if (item.lsid) li.dataset.lsid = item.lsid;
      var h = document.createElement('h3');
      if (item.kind === 'session_key') {
        h.appendChild(document.createTextNode('Session key '));
        var key = document.createElement('span');
        key.className = 'key';
        key.textContent = item.shortKey;
        h.appendChild(key);
      } else h.textContent = item.kind === 'jump' ? 'Jump' : 'Session';
      li.appendChild(h);
      var state = document.createElement('p');
      state.className = 'state state-' + item.state;
      state.textContent = describe(item);
      li.appendChild(state);
      if (item.keyUrl && item.state === 'key_issued' && !item.expired) {
        var p = document.createElement('p');
        var a = document.createElement('a');
        a.href = item.keyUrl;
        a.target = '_blank';
        a.rel = 'noopener';
        a.textContent = 'Customer link';
        p.appendChild(a);
        li.appendChild(p);
      }
      var written = item.writtenBack;
      if (written) {
        var parts = [];
        if (written.transcriptNote) parts.push('transcript noted');
        written.recordings.forEach(function (r) {
          var label = r.kind === 'session' ? 'recording' : r.kind === 'showMyScreen' ? 'Show My Screen recording' : 'shell recording';
          parts.push(label + ' ' + (r.result === 'attached' ? 'attached' : 'linked'));
        });
        if (written.surveys.length) parts.push('survey noted');
        if (parts.length) {
          var w = document.createElement('p');
          w.className = 'written';
          w.textContent = parts.join(', ').replace(/^./, function (c) {
            return c.toUpperCase();
          });
          li.appendChild(w);
        }
      }
      item.failures.forEach(function (f) {
        var e = document.createElement('p');
        e.className = 'failure';
        e.textContent =
          f.step === 'session_key'
            ? 'BeyondTrust refused the key: ' + f.reason
            : (f.step === 'transcript' ? 'Transcript' : f.step.indexOf('recording') === 0 ? 'Recording' : f.step) +
              ' not written: ' +
              f.reason +
              (f.retrying ? ' (rs-bridge keeps trying)' : ' (an admin can retry it)');
        li.appendChild(e);
      });
      list.appendChild(li);
    });
    resize();
  }

  function refresh() {
    clearTimeout(refreshTimer);
    return bridge('GET', '/sessions')
      .then(function (view) {
        render(view);
        if (view.open) refreshTimer = setTimeout(refresh, REFRESH_MS);
      })
      .catch(function (error) {
        fail(explain(error));
      });
  }

  action('send-key', 'sessionKey', function (key) {
    return bridge('POST', '/session-key', ticketBody(), key).then(function (k) {
      return 'Session key ' + k.shortKey + ' sent to the ticket.';
    });
  });

  action('cobrowse', 'cobrowse', function (key) {
    var body = ticketBody();
    body.agent = { id: String(agent.id), name: agent.name };
    return bridge('POST', '/cobrowse', body, key).then(function (r) {
      window.open(r.watchUrl, '_blank', 'noopener');
      return 'Co-browse opened in a new tab (the link is also noted on the ticket).';
    });
  });

  action('jump', 'jump', function (key) {
    var body = ticketBody();
    var ip = /^\d{1,3}(\.\d{1,3}){3}$/.test(jumpTarget) || jumpTarget.indexOf(':') >= 0;
    body.target = ip ? { ip: jumpTarget } : { hostname: jumpTarget };
    return bridge('POST', '/jump', body, key).then(function (r) {
      window.open(r.url, '_blank', 'noopener');
      return 'Jump to ' + jumpTarget + ' started in the representative console (the link is also noted on the ticket).';
    });
  });

  client.on('app.activated', refresh);

  client
    .metadata()
    .then(function (metadata) {
      settings = metadata.settings || {};
      var paths = ['ticket', 'currentUser'];
      if (settings.jump_target_field) paths.push('ticket.customField:custom_field_' + settings.jump_target_field);
      return client.get(paths);
    })
    .then(function (data) {
      ticket = data.ticket || {};
      agent = data.currentUser || {};
      jumpTarget = settings.jump_target_field
        ? String(data['ticket.customField:custom_field_' + settings.jump_target_field] || '').trim()
        : '';
      if (!settings.bridge_url || !ticket.id) {
        fail('The app is not set up: set the rs-bridge URL in its settings.');
        return;
      }
      $('send-key').disabled = false;
      $('cobrowse').disabled = !(ticket.requester && ticket.requester.email);
      if (jumpTarget) {
        $('jump').textContent = 'Jump to ' + jumpTarget;
        $('jump').hidden = false;
        $('jump').disabled = false;
      }
      return refresh();
    })
    .catch(function (error) {
      fail('The ticket could not be read: ' + (error && error.message ? error.message : error));
    });
})();
