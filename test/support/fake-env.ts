import type { FakeAppliance } from '../fakes/beyondtrust/fake-appliance';
import type { FakeJira } from '../fakes/jira/fake-jira';
import type { FakeServiceNow } from '../fakes/servicenow/fake-servicenow';
import type { FakeUpscope } from '../fakes/upscope/fake-upscope';
import type { FakeZendesk } from '../fakes/zendesk/fake-zendesk';

/** The variables that wire rs-bridge to each fake, as an operator would set them for the real system. */
export const applianceEnv = (appliance: FakeAppliance): Record<string, string> => ({
  BT_SITE_URL: appliance.url,
  BT_CLIENT_ID: 'rsb-client',
  BT_CLIENT_SECRET: 'rsb-secret-0123456789',
});

export const zendeskEnv = (zendesk: FakeZendesk): Record<string, string> => ({
  ZENDESK_BASE_URL: zendesk.url,
  ZENDESK_EMAIL: zendesk.email,
  ZENDESK_API_TOKEN: zendesk.apiToken,
  ZENDESK_WEBHOOK_SECRET: zendesk.webhookSecret,
});

export const servicenowEnv = (servicenow: FakeServiceNow): Record<string, string> => ({
  SERVICENOW_INSTANCE_URL: servicenow.url,
  SERVICENOW_USERNAME: servicenow.username,
  SERVICENOW_PASSWORD: servicenow.password,
  SERVICENOW_WEBHOOK_SECRET: servicenow.webhookSecret,
});

export const jiraEnv = (jira: FakeJira): Record<string, string> => ({
  JIRA_BASE_URL: jira.url,
  JIRA_EMAIL: jira.email,
  JIRA_API_TOKEN: jira.apiToken,
  JIRA_WEBHOOK_SECRET: jira.webhookSecret,
});

export const upscopeEnv = (upscope: FakeUpscope): Record<string, string> => ({
  UPSCOPE_BASE_URL: upscope.url,
  UPSCOPE_REST_KEY: upscope.restKey,
  UPSCOPE_LICENSE_TOKEN: upscope.licenseToken,
});
