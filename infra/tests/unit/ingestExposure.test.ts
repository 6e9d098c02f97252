import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { EventStream } from '../../src/constructs/EventStream.js';
import { ANY_ORIGIN, IngestApi, type IngestApiProps } from '../../src/constructs/IngestApi.js';
import { ConfigurationError } from '../../src/errors.js';
import { referenceTemplate, TEST_ORIGIN } from '../helpers/synthStack.js';

function ingestTemplate(props: Partial<IngestApiProps>): Template {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S', {
    env: { account: '111111111111', region: 'eu-west-1' },
  });
  new IngestApi(stack, 'Ingest', {
    stream: new EventStream(stack, 'E'),
    allowedOrigins: [TEST_ORIGIN],
    ...props,
  });
  return Template.fromStack(stack);
}

function corsOrigins(template: Template): unknown[] {
  return Object.values(template.findResources('AWS::ApiGateway::Method'))
    .filter((m) => m.Properties.HttpMethod === 'OPTIONS')
    .map(
      (m) =>
        m.Properties.Integration.IntegrationResponses[0].ResponseParameters[
          'method.response.header.Access-Control-Allow-Origin'
        ],
    );
}

describe('the ingest API is safe to expose by default', () => {
  const { template } = referenceTemplate();

  it('CORS allows only the listed origins (no *)', () => {
    const origins = corsOrigins(template);
    expect(origins.length).toBeGreaterThan(0);
    for (const origin of origins) expect(origin).toBe(`'${TEST_ORIGIN}'`);
    expect(JSON.stringify(template.findResources('AWS::ApiGateway::GatewayResponse'))).not.toContain("'*'");
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ALLOWED_ORIGINS: TEST_ORIGIN }) },
    });
  });

  it('one default client: its own key and usage plan with a conservative throttle and a daily quota', () => {
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 100, BurstLimit: 200 },
      Quota: { Limit: 1_000_000, Period: 'DAY' },
    });
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
    template.hasOutput('ApiKeyId', { Value: Match.anyValue() });
  });

  it('a regional WAF web ACL with a rate-based rule per source IP, associated with the stage', () => {
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      CustomResponseBodies: {
        throttled: {
          ContentType: 'APPLICATION_JSON',
          Content: Match.stringLikeRegexp('"error":"Throttled"'),
        },
      },
      Rules: [
        Match.objectLike({
          Action: { Block: { CustomResponse: { ResponseCode: 429, CustomResponseBodyKey: 'throttled' } } },
          Statement: {
            RateBasedStatement: { AggregateKeyType: 'IP', Limit: 2000, EvaluationWindowSec: 300 },
          },
        }),
      ],
    });
    const [aclId] = Object.keys(template.findResources('AWS::WAFv2::WebACL'));
    const [stageId] = Object.keys(template.findResources('AWS::ApiGateway::Stage'));
    const association = Object.values(template.findResources('AWS::WAFv2::WebACLAssociation'));
    expect(association).toHaveLength(1);
    expect(association[0]!.Properties.WebACLArn).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });
    expect(JSON.stringify(association[0]!.Properties.ResourceArn)).toContain(
      `"/stages/",{"Ref":"${stageId}"}`,
    );
    expect(association[0]!.DependsOn).toContain(stageId);
  });

  it('reserves concurrency for the ingest function (50)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ STREAM_NAME: Match.anyValue() }) },
      ReservedConcurrentExecutions: 50,
    });
  });
});

describe('ingest exposure options', () => {
  it('one key and usage plan per client, each with its own throttle and quota, and an output per key', () => {
    const { template } = referenceTemplate({
      ingestClients: [
        {
          name: 'partner-acme',
          rateLimitPerSecond: 50,
          burstLimit: 100,
          quota: { limit: 5000, period: 'WEEK' },
        },
        { name: 'web', quota: false },
        { name: 'default' },
      ],
    });
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 3);
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', 3);
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 3);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 50, BurstLimit: 100 },
      Quota: { Limit: 5000, Period: 'WEEK' },
    });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Description: Match.stringLikeRegexp('client web'),
      Throttle: { RateLimit: 100, BurstLimit: 200 },
      Quota: Match.absent(),
    });
    // Each plan holds exactly its own key.
    const plans = Object.keys(template.findResources('AWS::ApiGateway::UsagePlan'));
    const planKeys = Object.values(template.findResources('AWS::ApiGateway::UsagePlanKey'));
    expect(new Set(planKeys.map((k) => JSON.stringify(k.Properties.UsagePlanId))).size).toBe(3);
    expect(new Set(planKeys.map((k) => JSON.stringify(k.Properties.KeyId))).size).toBe(3);
    expect(plans).toHaveLength(3);
    for (const id of ['ApiKeyIdPartnerAcme', 'ApiKeyIdWeb', 'ApiKeyId']) {
      template.hasOutput(id, { Value: Match.anyValue() });
    }
  });

  it("'*' only when asked for by name (ANY_ORIGIN)", () => {
    const template = ingestTemplate({ allowedOrigins: ANY_ORIGIN });
    for (const origin of corsOrigins(template)) expect(origin).toBe("'*'");
  });

  it('waf: false, or a web ACL of your own, creates no web ACL; the managed common rules are optional', () => {
    const none = ingestTemplate({ waf: false });
    none.resourceCountIs('AWS::WAFv2::WebACL', 0);
    none.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
    const own = ingestTemplate({ webAclArn: 'arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/x/1' });
    own.resourceCountIs('AWS::WAFv2::WebACL', 0);
    own.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: 'arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/x/1',
    });
    const managed = ingestTemplate({ waf: { rateLimitPer5Minutes: 500, managedCommonRules: true } });
    managed.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: [
        Match.objectLike({ Statement: { RateBasedStatement: Match.objectLike({ Limit: 500 }) } }),
        Match.objectLike({
          OverrideAction: { None: {} },
          Statement: {
            ManagedRuleGroupStatement: Match.objectLike({
              Name: 'AWSManagedRulesCommonRuleSet',
              RuleActionOverrides: [{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }],
            }),
          },
        }),
      ],
    });
  });

  it('reserved concurrency is configurable and can be turned off', () => {
    ingestTemplate({ functionReservedConcurrency: 10 }).hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 10,
    });
    const off = ingestTemplate({ functionReservedConcurrency: false });
    for (const fn of Object.values(off.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    }
  });

  it('wrong or missing props fail at synth with every problem listed', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    const stream = new EventStream(stack, 'E');
    const make = (props: Partial<IngestApiProps>) => () =>
      new IngestApi(stack, `I${Math.random()}`, { stream, ...props } as IngestApiProps);
    expect(make({})).toThrow(ConfigurationError);
    expect(make({})).toThrow(/allowedOrigins[\s\S]*is required[\s\S]*ANY_ORIGIN \('any'\)/);
    expect(
      make({
        allowedOrigins: '*' as 'any',
        clients: [
          { name: 'Acme' },
          { name: 'web', quota: { limit: 0, period: 'YEAR' as 'DAY' } },
          { name: 'web' },
        ],
        waf: { rateLimitPer5Minutes: 5 },
        webAclArn: 'arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/x/1',
        mode: 'direct',
        functionReservedConcurrency: 10,
      }),
    ).toThrow(
      /8 problems[\s\S]*clients\.0\.name[\s\S]*clients\.1\.quota\.limit[\s\S]*clients\.1\.quota\.period[\s\S]*clients\.2\.name[\s\S]*waf\.rateLimitPer5Minutes[\s\S]*waf[\s\S]*allowedOrigins[\s\S]*functionReservedConcurrency/,
    );
    expect(make({ allowedOrigins: [TEST_ORIGIN], clients: [] })).toThrow(/clients[\s\S]*at least one/);
  });

  it('the app takes the origins from -c allowedOrigins and fails synth without them', () => {
    const context = { 'aws:cdk:bundling-stacks': [] };
    expect(() => buildApp(new App({ context }))).toThrow(
      /-c allowedOrigins is required[\s\S]*allowedOrigins=any/,
    );
    const { stack } = buildApp(
      new App({ context: { ...context, allowedOrigins: 'https://a.example, https://b.example' } }),
    );
    const template = Template.fromStack(stack);
    for (const origin of corsOrigins(template)) expect(origin).toBe("'https://a.example'");
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ ALLOWED_ORIGINS: 'https://a.example,https://b.example' }),
      },
    });
  });
});
