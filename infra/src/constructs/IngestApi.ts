import {
  INGEST_EVENT_REQUEST_SCHEMA,
  INGEST_EVENTS_REQUEST_SCHEMA,
  type JsonSchema,
} from '@shardline/ingest';
import { Duration, Size } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../config/acknowledge.js';
import { propsProblems } from '../config/propsProblems.js';
import {
  EVENT_RESPONSE_TEMPLATE,
  EVENTS_RESPONSE_TEMPLATE,
  eventRequestTemplate,
  eventsRequestTemplate,
  KINESIS_ERROR_RESPONSE_TEMPLATE,
} from '../direct/templates.js';
import { bundledFunction, lambdaEntry } from './bundledFunction.js';
import type { EventStream } from './EventStream.js';

/** How API Gateway reaches Kinesis. */
export const IngestIntegrationMode = {
  /** A Lambda function runs the contract's handler: answers exactly like the local gateway. */
  Function: 'function',
  /** No function: an AWS-service integration to `kinesis:PutRecords` with VTL templates (README lists the differences). */
  Direct: 'direct',
} as const;
/** See {@link IngestIntegrationMode}. */
export type IngestIntegrationMode = (typeof IngestIntegrationMode)[keyof typeof IngestIntegrationMode];

/**
 * `allowedOrigins: ANY_ORIGIN` (the string `'any'`): CORS allows every origin (`*`). Only for an API no
 * browser page of yours depends on being the only caller of; a key shipped in a page can then be used
 * from any site.
 */
export const ANY_ORIGIN = 'any';

/** The period of an {@link IngestClient}'s quota. */
export type IngestQuotaPeriod = 'DAY' | 'WEEK' | 'MONTH';

/** One client of the ingest API: its own API key and its own usage plan (throttle and quota). */
export interface IngestClient {
  /** Names the key, its usage plan and its stack output: 1–40 of a-z 0-9 and '-', starting with a letter. */
  readonly name: string;
  /** Steady requests per second of this client's key. @defaultValue the API's `rateLimitPerSecond` */
  readonly rateLimitPerSecond?: number;
  /** Burst of requests of this client's key. @defaultValue the API's `burstLimit` */
  readonly burstLimit?: number;
  /**
   * Requests this client may make per period (API Gateway answers 429 beyond it), or `false` for none.
   * @defaultValue \{ limit: 1_000_000, period: 'DAY' \}
   */
  readonly quota?: { readonly limit: number; readonly period: IngestQuotaPeriod } | false;
}

/** The WAF web ACL that {@link IngestApi} creates (unless `waf: false` or `webAclArn`). */
export interface IngestWafOptions {
  /**
   * Requests one source IP may make in any 5 minutes before WAF blocks it (403) until its rate falls.
   * @defaultValue 2000
   */
  readonly rateLimitPer5Minutes?: number;
  /**
   * Adds the AWS managed common rule set (`AWSManagedRulesCommonRuleSet`), with its 8 KB body-size rule
   * counted rather than blocking (ingest batches are larger). @defaultValue false
   */
  readonly managedCommonRules?: boolean;
}

/** The default client: one key with a conservative throttle and a daily quota. */
export const DEFAULT_INGEST_CLIENTS: readonly IngestClient[] = Object.freeze([{ name: 'default' }]);

/** One client's key and usage plan, as created. */
export interface IngestClientKey {
  readonly apiKey: apigateway.IApiKey;
  readonly usagePlan: apigateway.UsagePlan;
}

/** Props of {@link IngestApi}. */
export interface IngestApiProps {
  /** The stream the API writes to. */
  readonly stream: EventStream;
  /** @defaultValue 'function' */
  readonly mode?: IngestIntegrationMode;
  /**
   * Origins allowed by CORS, e.g. `['https://shop.example.com']` (required), or {@link ANY_ORIGIN}
   * (`'any'`) to allow every origin.
   */
  readonly allowedOrigins: typeof ANY_ORIGIN | readonly string[];
  /**
   * The API's clients: one API key and one usage plan (throttle, quota) each, so a leaked key can be
   * revoked alone and one client cannot use up another's throttle.
   * @defaultValue {@link DEFAULT_INGEST_CLIENTS} (one client named `default`)
   */
  readonly clients?: readonly IngestClient[];
  /** Steady requests per second of a client that sets none. @defaultValue 100 */
  readonly rateLimitPerSecond?: number;
  /** Burst of requests of a client that sets none. @defaultValue 200 */
  readonly burstLimit?: number;
  /**
   * The WAF web ACL created and associated with the stage (a rate-based rule per source IP), or
   * `false` for none (then API keys and usage plans are the only bound). @defaultValue \{\}
   */
  readonly waf?: IngestWafOptions | false;
  /**
   * Reserved concurrency of the `function` mode's Lambda (its most concurrent invocations, and
   * capacity no other function of the account can take: it is subtracted from the account's
   * unreserved pool, which must keep at least 100), or `false` for none. @defaultValue 50
   */
  readonly functionReservedConcurrency?: number | false;
  /** The stage name (the URL's first segment, before `/v1/events`). @defaultValue 'prod' */
  readonly stageName?: string;
  /** Days to keep access logs. @defaultValue 90 */
  readonly accessLogRetentionDays?: logs.RetentionDays;
  /** A WAF web ACL of your own to associate with the stage instead of the created one. @defaultValue none */
  readonly webAclArn?: string;
  /** Memory of the `function` mode's Lambda. @defaultValue 512 */
  readonly functionMemoryMb?: number;
}

const JSON_TYPE = 'application/json';
const CORS_HEADERS = 'Content-Type,Content-Encoding,X-Api-Key';
const STAGE_NAME = /^[a-zA-Z0-9_]{1,128}$/;
const CLIENT_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const DEFAULT_QUOTA = { limit: 1_000_000, period: 'DAY' } as const;

/**
 * The ingest API (`POST /v1/events`, `POST /v1/event`) on API Gateway: a REST API with API keys, a usage
 * plan with throttling, JSON access logs, CORS, and API Gateway's own answers (bad key, too large,
 * throttled, bad body, unknown route) in the contract's error shape. Two integration modes:
 *
 * - `function` (default): a Lambda function (Node.js 24, bundled by esbuild) runs the contract's
 *   handler behind a proxy integration. Lambda takes at most 6 MB of request payload (a base64 body
 *   of ~4.5 MB of raw bytes): larger bodies get API Gateway's 413, in the contract's shape.
 * - `direct`: API Gateway calls `kinesis:PutRecords` itself with a role that may only put to this
 *   stream; the body is validated by models made from the contract's JSON Schemas and VTL templates
 *   build the envelopes and map Kinesis's answers to 200/207/429/413/502/503.
 *
 * @throws ConfigurationError when props are wrong (every problem listed).
 * @example
 * ```ts
 * const stream = new EventStream(this, 'Events');
 * const api = new IngestApi(this, 'Ingest', { stream, allowedOrigins: ['https://shop.example.com'] });
 * new CfnOutput(this, 'Url', { value: api.url });
 * ```
 */
export class IngestApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly mode: IngestIntegrationMode;
  /** The first client's API key (its value: `aws apigateway get-api-key --include-value`). */
  readonly apiKey: apigateway.IApiKey;
  /** The first client's usage plan. */
  readonly usagePlan: apigateway.UsagePlan;
  /** Every client's key and usage plan, by client name. */
  readonly clients: ReadonlyMap<string, IngestClientKey>;
  /** The web ACL created for the stage (none with `waf: false` or `webAclArn`). */
  readonly webAcl: wafv2.CfnWebACL | undefined;
  readonly accessLogs: logs.LogGroup;
  /** The `function` mode's Lambda. */
  readonly handlerFunction: lambda.IFunction | undefined;
  /** The role API Gateway assumes in `direct` mode. */
  readonly integrationRole: iam.Role | undefined;

  constructor(scope: Construct, id: string, props: IngestApiProps) {
    super(scope, id);
    const problems = propsProblems('IngestApi');
    if (props.stream === undefined) problems.add('stream', 'is required');
    problems.optionalOneOf('mode', props.mode, Object.values(IngestIntegrationMode));
    problems.optionalInteger('rateLimitPerSecond', props.rateLimitPerSecond, 1, 10_000);
    problems.optionalInteger('burstLimit', props.burstLimit, 1, 5_000);
    problems.optionalInteger('functionMemoryMb', props.functionMemoryMb, 128, 10_240);
    problems.optionalMatch('stageName', props.stageName, STAGE_NAME, '1–128 characters of a-z A-Z 0-9 _');
    const clients = props.clients ?? DEFAULT_INGEST_CLIENTS;
    if (!Array.isArray(clients as unknown) || clients.length === 0)
      problems.add('clients', 'must list at least one client');
    else {
      const seen = new Set<string>();
      clients.forEach((client, i) => {
        problems.optionalMatch(
          `clients.${i}.name`,
          client.name,
          CLIENT_NAME,
          "1–40 of a-z 0-9 '-', a letter first",
        );
        if (seen.has(client.name))
          problems.add(`clients.${i}.name`, `repeats ${JSON.stringify(client.name)}`);
        seen.add(client.name);
        problems.optionalInteger(`clients.${i}.rateLimitPerSecond`, client.rateLimitPerSecond, 1, 10_000);
        problems.optionalInteger(`clients.${i}.burstLimit`, client.burstLimit, 1, 5_000);
        if (client.quota !== undefined && client.quota !== false) {
          problems.optionalInteger(`clients.${i}.quota.limit`, client.quota.limit, 1, 1_000_000_000);
          problems.optionalOneOf(`clients.${i}.quota.period`, client.quota.period, ['DAY', 'WEEK', 'MONTH']);
        }
      });
    }
    if (props.waf !== undefined && props.waf !== false) {
      problems.optionalInteger('waf.rateLimitPer5Minutes', props.waf.rateLimitPer5Minutes, 10, 2_000_000_000);
      if (props.webAclArn !== undefined)
        problems.add('waf', 'cannot be set with webAclArn (that web ACL is used instead)');
    }
    if (props.functionReservedConcurrency !== false)
      problems.optionalInteger('functionReservedConcurrency', props.functionReservedConcurrency, 1, 10_000);
    const origins = props.allowedOrigins;
    if (origins === undefined) {
      problems.add(
        'allowedOrigins',
        `is required: the list of origins whose pages may call the API (e.g. ['https://shop.example.com']), or ANY_ORIGIN ('${ANY_ORIGIN}') for every origin`,
      );
    } else if (origins !== ANY_ORIGIN) {
      if (!Array.isArray(origins) || origins.length === 0)
        problems.add('allowedOrigins', `must be a non-empty list of origins or ANY_ORIGIN ('${ANY_ORIGIN}')`);
      else
        origins.forEach((o, i) => {
          if (!/^https?:\/\/[^/\s]+$/.test(o))
            problems.add(
              `allowedOrigins.${i}`,
              `must be an origin like https://shop.example.com, got ${JSON.stringify(o)}`,
            );
        });
    }
    const mode = props.mode ?? IngestIntegrationMode.Function;
    if (mode === IngestIntegrationMode.Direct && props.functionMemoryMb !== undefined) {
      problems.add('functionMemoryMb', "applies to mode 'function' only");
    }
    if (mode === IngestIntegrationMode.Direct && props.functionReservedConcurrency !== undefined) {
      problems.add('functionReservedConcurrency', "applies to mode 'function' only");
    }
    problems.throwIfAny();
    this.mode = mode;
    const anyOrigin = origins === ANY_ORIGIN;

    // Answers built by API Gateway itself (not by the handler or a template) carry one static origin.
    const gatewayOrigin = anyOrigin ? '*' : origins[0]!;
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetentionDays ?? logs.RetentionDays.THREE_MONTHS,
    });
    this.api = new apigateway.RestApi(this, 'Api', {
      description: `Shardline ingest API (${mode} mode)`,
      cloudWatchRole: true,
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // function mode: JSON bodies reach the function as base64 bytes, exactly as sent, gzip included
      // (the handler inflates and checks UTF-8 itself);
      // direct mode: API Gateway inflates gzip bodies before the templates (compression enabled).
      // Not '*/*': that would also turn the CORS preflight's bodiless request into binary, which its mock
      // integration cannot map.
      binaryMediaTypes: mode === IngestIntegrationMode.Function ? ['application/*'] : undefined,
      minCompressionSize: mode === IngestIntegrationMode.Direct ? Size.kibibytes(1) : undefined,
      apiKeySourceType: apigateway.ApiKeySourceType.HEADER,
      deployOptions: {
        stageName: props.stageName ?? 'prod',
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
      },
      defaultCorsPreflightOptions: {
        allowOrigins: anyOrigin ? apigateway.Cors.ALL_ORIGINS : [...origins],
        allowMethods: ['POST', 'OPTIONS'],
        allowHeaders: CORS_HEADERS.split(','),
        exposeHeaders: ['Retry-After'],
        maxAge: Duration.hours(1),
        statusCode: 204,
      },
    });
    acknowledgeNag(
      this.api,
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      "API Gateway's account-level logging role needs exactly this AWS managed policy to write execution and access logs.",
    );
    this.#addGatewayResponses(gatewayOrigin);

    const v1 = this.api.root.addResource('v1');
    const eventsResource = v1.addResource('events');
    const eventResource = v1.addResource('event');
    if (mode === IngestIntegrationMode.Function) {
      const fn = bundledFunction(this, 'Handler', {
        entry: lambdaEntry('ingestFunction'),
        description: 'Shardline ingest API: the contract handler behind API Gateway',
        memorySizeMb: props.functionMemoryMb ?? 512,
        // Under API Gateway's 29 s integration timeout, so the function answers (503) before it.
        timeout: Duration.seconds(25),
        environment: {
          STREAM_NAME: props.stream.stream.streamName,
          ALLOWED_ORIGINS: anyOrigin ? '*' : origins.join(','),
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      });
      props.stream.grantWrite(fn);
      const reserved = props.functionReservedConcurrency ?? 50;
      if (reserved !== false) {
        (fn.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions = reserved;
      }
      this.handlerFunction = fn;
      const integration = new apigateway.LambdaIntegration(fn, { proxy: true });
      for (const resource of [eventsResource, eventResource]) {
        resource.addMethod('POST', integration, { apiKeyRequired: true });
      }
    } else {
      const role = new iam.Role(this, 'IntegrationRole', {
        assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
        description: 'API Gateway direct integration: PutRecords on the Shardline event stream only',
      });
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['kinesis:PutRecords'],
          resources: [props.stream.stream.streamArn],
        }),
      );
      props.stream.key.grant(role, 'kms:GenerateDataKey');
      this.integrationRole = role;
      const validator = this.api.addRequestValidator('BodyValidator', {
        requestValidatorName: 'contract-body',
        validateRequestBody: true,
        validateRequestParameters: false,
      });
      const streamName = props.stream.stream.streamName;
      this.#addDirectMethod(
        eventsResource,
        'IngestEventsRequest',
        INGEST_EVENTS_REQUEST_SCHEMA,
        eventsRequestTemplate(streamName),
        EVENTS_RESPONSE_TEMPLATE,
        role,
        validator,
        gatewayOrigin,
      );
      this.#addDirectMethod(
        eventResource,
        'IngestEventRequest',
        INGEST_EVENT_REQUEST_SCHEMA,
        eventRequestTemplate(streamName),
        EVENT_RESPONSE_TEMPLATE,
        role,
        validator,
        gatewayOrigin,
      );
    }

    const keys = new Map<string, IngestClientKey>();
    for (const client of clients) {
      // The `default` client keeps the logical ids of the single key of earlier versions (same key).
      const suffix = client.name === 'default' ? '' : pascalCase(client.name);
      const quota = client.quota ?? DEFAULT_QUOTA;
      const usagePlan = this.api.addUsagePlan(`UsagePlan${suffix}`, {
        description: `Shardline ingest API client ${client.name}`,
        throttle: {
          rateLimit: client.rateLimitPerSecond ?? props.rateLimitPerSecond ?? 100,
          burstLimit: client.burstLimit ?? props.burstLimit ?? 200,
        },
        ...(quota === false
          ? {}
          : { quota: { limit: quota.limit, period: apigateway.Period[quota.period] } }),
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
      const apiKey = this.api.addApiKey(`ApiKey${suffix}`, {
        description: `Shardline ingest API key of client ${client.name}`,
      });
      usagePlan.addApiKey(apiKey);
      keys.set(client.name, { apiKey, usagePlan });
    }
    this.clients = keys;
    const first = keys.values().next().value!;
    this.apiKey = first.apiKey;
    this.usagePlan = first.usagePlan;

    const waf = props.waf ?? {};
    let webAclArn = props.webAclArn;
    if (webAclArn === undefined && waf !== false) {
      this.webAcl = this.#createWebAcl(waf);
      webAclArn = this.webAcl.attrArn;
    }
    if (webAclArn !== undefined) {
      const association = new wafv2.CfnWebACLAssociation(this, 'WebAcl', {
        resourceArn: this.api.deploymentStage.stageArn,
        webAclArn,
      });
      association.node.addDependency(this.api.deploymentStage);
    }
  }

  #createWebAcl(options: IngestWafOptions): wafv2.CfnWebACL {
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    const rules: wafv2.CfnWebACL.RuleProperty[] = [
      {
        name: 'RatePerSourceIp',
        priority: 0,
        // 429 in the contract's error shape, so clients back off as from any throttle.
        action: { block: { customResponse: { responseCode: 429, customResponseBodyKey: 'throttled' } } },
        statement: {
          rateBasedStatement: {
            aggregateKeyType: 'IP',
            limit: options.rateLimitPer5Minutes ?? 2000,
            evaluationWindowSec: 300,
          },
        },
        visibilityConfig: visibility('RatePerSourceIp'),
      },
    ];
    if (options.managedCommonRules === true) {
      rules.push({
        name: 'AwsCommonRules',
        priority: 1,
        overrideAction: { none: {} },
        statement: {
          managedRuleGroupStatement: {
            vendorName: 'AWS',
            name: 'AWSManagedRulesCommonRuleSet',
            // Ingest batches are larger than the rule set's 8 KB body limit.
            ruleActionOverrides: [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }],
          },
        },
        visibilityConfig: visibility('AwsCommonRules'),
      });
    }
    return new wafv2.CfnWebACL(this, 'WebAclRules', {
      scope: 'REGIONAL',
      description: 'Shardline ingest API: a rate limit per source IP',
      defaultAction: { allow: {} },
      customResponseBodies: {
        throttled: {
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify({
            error: 'Throttled',
            message: 'Too many requests from this address: retry later with backoff',
          }),
        },
      },
      visibilityConfig: visibility('ShardlineIngest'),
      rules,
    });
  }

  /** The base URL, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/prod/` (then `v1/events`). */
  get url(): string {
    return this.api.url;
  }

  /** 5xx answers per minute (API Gateway's `5XXError` count). */
  metricServerErrors(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.api.metricServerError({ statistic: 'Sum', period: Duration.minutes(1), ...props });
  }

  #addDirectMethod(
    resource: apigateway.Resource,
    modelName: string,
    schema: JsonSchema,
    requestTemplate: string,
    responseTemplate: string,
    role: iam.IRole,
    validator: apigateway.IRequestValidator,
    origin: string,
  ): void {
    // The model is the contract's JSON Schema itself (draft-04 keywords only).
    const cfnModel = new apigateway.CfnModel(this, `${modelName}Model`, {
      restApiId: this.api.restApiId,
      contentType: JSON_TYPE,
      name: modelName,
      description: `The ingest contract's ${modelName} JSON Schema`,
      schema,
    });
    const model = apigateway.Model.fromModelName(this, `${modelName}Ref`, cfnModel.ref);
    const headers = {
      'method.response.header.Access-Control-Allow-Origin': `'${origin}'`,
      'method.response.header.Access-Control-Expose-Headers': "'Retry-After'",
      'method.response.header.Vary': "'Origin'",
      'method.response.header.Cache-Control': "'no-store'",
    };
    const integration = new apigateway.AwsIntegration({
      service: 'kinesis',
      action: 'PutRecords',
      integrationHttpMethod: 'POST',
      options: {
        credentialsRole: role,
        passthroughBehavior: apigateway.PassthroughBehavior.NEVER,
        requestParameters: { 'integration.request.header.Content-Type': "'application/x-amz-json-1.1'" },
        requestTemplates: { [JSON_TYPE]: requestTemplate },
        integrationResponses: [
          {
            statusCode: '200',
            responseTemplates: { [JSON_TYPE]: responseTemplate },
            responseParameters: headers,
          },
          {
            statusCode: '400',
            selectionPattern: '4\\d{2}',
            responseTemplates: { [JSON_TYPE]: KINESIS_ERROR_RESPONSE_TEMPLATE },
            responseParameters: headers,
          },
          {
            statusCode: '503',
            selectionPattern: '5\\d{2}',
            responseTemplates: { [JSON_TYPE]: KINESIS_ERROR_RESPONSE_TEMPLATE },
            responseParameters: headers,
          },
        ],
      },
    });
    const responseParameters = Object.fromEntries(
      [...Object.keys(headers), 'method.response.header.Retry-After'].map((h) => [h, true]),
    );
    resource.addMethod('POST', integration, {
      apiKeyRequired: true,
      requestValidator: validator,
      requestModels: { [JSON_TYPE]: model },
      methodResponses: ['200', '207', '400', '413', '429', '502', '503'].map((statusCode) => ({
        statusCode,
        responseParameters,
      })),
    });
  }

  #addGatewayResponses(origin: string): void {
    const headers = {
      'Access-Control-Allow-Origin': `'${origin}'`,
      'Access-Control-Expose-Headers': "'Retry-After'",
      'Cache-Control': "'no-store'",
      Vary: "'Origin'",
    };
    const body = (error: string, message: string) =>
      JSON.stringify({ error, message })
        .replace('"__MESSAGE__"', '$context.error.messageString')
        .replace('__TYPE__', '$context.error.responseType');
    const responses: [string, apigateway.ResponseType, string, string, string, Record<string, string>?][] = [
      [
        'TooLarge',
        apigateway.ResponseType.REQUEST_TOO_LARGE,
        '413',
        'PayloadTooLarge',
        'The body is larger than API Gateway accepts (10 MB; 6 MB of payload in function mode)',
      ],
      ['BadKey', apigateway.ResponseType.INVALID_API_KEY, '403', 'Forbidden', 'Missing or unknown x-api-key'],
      ['Denied', apigateway.ResponseType.ACCESS_DENIED, '403', 'Forbidden', 'Missing or unknown x-api-key'],
      [
        'NoRoute',
        apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN,
        '403',
        'NotFound',
        'No such route: POST /v1/events or POST /v1/event',
      ],
      [
        'Throttled',
        apigateway.ResponseType.THROTTLED,
        '429',
        'Throttled',
        'Too many requests for this API key',
        { 'Retry-After': "'1'" },
      ],
      [
        'Quota',
        apigateway.ResponseType.QUOTA_EXCEEDED,
        '429',
        'Throttled',
        'The quota of this API key is used up',
        { 'Retry-After': "'3600'" },
      ],
      ['BadBody', apigateway.ResponseType.BAD_REQUEST_BODY, '400', 'ValidationFailed', '__MESSAGE__'],
      [
        'MediaType',
        apigateway.ResponseType.UNSUPPORTED_MEDIA_TYPE,
        '415',
        'UnsupportedMediaType',
        'Content-Type must be application/json',
      ],
      [
        'Timeout',
        apigateway.ResponseType.INTEGRATION_TIMEOUT,
        '503',
        'UpstreamUnavailable',
        'The write timed out and may have happened: retry with the same eventIds',
        { 'Retry-After': "'1'" },
      ],
      ['Default5xx', apigateway.ResponseType.DEFAULT_5XX, '500', 'InternalError', '__MESSAGE__'],
      // Any other refusal by API Gateway (WAF, quota...): named by its response type.
      ['Default4xx', apigateway.ResponseType.DEFAULT_4XX, '400', '__TYPE__', '__MESSAGE__'],
    ];
    for (const [id, type, statusCode, error, message, extra] of responses) {
      this.api.addGatewayResponse(id, {
        type,
        statusCode:
          type === apigateway.ResponseType.DEFAULT_4XX || type === apigateway.ResponseType.DEFAULT_5XX
            ? undefined
            : statusCode,
        responseHeaders: { ...headers, ...extra },
        templates: { [JSON_TYPE]: body(error, message) },
      });
    }
  }
}

/** `partner-acme` → `PartnerAcme` (a logical id part). */
function pascalCase(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
