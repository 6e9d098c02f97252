import { describe, expect, it } from 'vitest';
import { clfTime, escapeJavaScript, jsonPath, renderMappingTemplate } from '../helpers/apiGatewayVtl.js';

// The stand-in checked against AWS's documented examples (API Gateway developer guide: "Examples using
// variables for mapping template transformations", "Variables for data transformations", the PetStore
// walkthrough's mapping templates).
const context = {
  requestId: 'abcdefg-000-000-0000-abcdefg',
  requestTimeEpoch: Date.UTC(2026, 10, 25, 17, 40, 5, 42),
  stage: 'prod',
  apiId: 'abcd1234',
  resourcePath: '/',
  httpMethod: 'GET',
  identity: {
    sourceIp: '192.0.2.1',
    userAgent: 'curl/7.84.0',
    accountId: '111122223333',
    apiKey: 'MyTestKey',
  },
};

describe('the API Gateway VTL stand-in, against the documented examples', () => {
  it('Example 1: $context variables map into an integration request payload', () => {
    const template = `{
    "stage" : "$context.stage",
    "request_id" : "$context.requestId",
    "api_id" : "$context.apiId",
    "resource_path" : "$context.resourcePath",
    "http_method" : "$context.httpMethod",
    "source_ip" : "$context.identity.sourceIp",
    "user-agent" : "$context.identity.userAgent",
    "account_id" : "$context.identity.accountId",
    "api_key" : "$context.identity.apiKey"
}`;
    expect(JSON.parse(renderMappingTemplate(template, '', context).output)).toEqual({
      stage: 'prod',
      request_id: 'abcdefg-000-000-0000-abcdefg',
      api_id: 'abcd1234',
      resource_path: '/',
      http_method: 'GET',
      source_ip: '192.0.2.1',
      'user-agent': 'curl/7.84.0',
      account_id: '111122223333',
      api_key: 'MyTestKey',
    });
  });

  it('the PetStore response template: $input.path objects, #foreach, $foreach.hasNext', () => {
    const body =
      '[{"id":1,"type":"dog","price":249.99},{"id":2,"type":"cat","price":124.99},{"id":3,"type":"fish","price":0.99}]';
    const template = `#set($inputRoot = $input.path('$'))
[
#foreach($elem in $inputRoot)
  {
    "description" : "Item $elem.id is a $elem.type.",
    "askingPrice" : $elem.price
  }#if($foreach.hasNext),#end

#end
]`;
    expect(JSON.parse(renderMappingTemplate(template, body, context).output)).toEqual([
      { description: 'Item 1 is a dog.', askingPrice: 249.99 },
      { description: 'Item 2 is a cat.', askingPrice: 124.99 },
      { description: 'Item 3 is a fish.', askingPrice: 0.99 },
    ]);
  });

  it("$input.json returns a JSON string, $input.path('$.pets').size() the number of pets", () => {
    const body = '{"pets":[{"id":1},{"id":2},{"id":3}],"name":"shop"}';
    const out = renderMappingTemplate(
      `{"pets":$input.json('$.pets'),"count":$input.path('$.pets').size(),"name":$input.json('$.name'),"first":$input.json('$.pets[0].id')}`,
      body,
      context,
    ).output;
    expect(JSON.parse(out)).toEqual({
      pets: [{ id: 1 }, { id: 2 }, { id: 3 }],
      count: 3,
      name: 'shop',
      first: 1,
    });
  });

  it('$input.params() returns every parameter, $input.params(x) one of them', () => {
    const out = renderMappingTemplate(
      `$input.params('x-api-key')|$input.params().header.get('x-api-key')`,
      '',
      context,
      {
        header: { 'x-api-key': 'k1' },
      },
    ).output;
    expect(out).toBe('k1|k1');
  });

  it("$util.escapeJavaScript escapes single quotes to \\', which the documented replaceAll idiom turns back", () => {
    expect(escapeJavaScript(`it's "q" \\ /\n`)).toBe(`it\\'s \\"q\\" \\\\ \\/\\n`);
    const out = renderMappingTemplate(
      `"$util.escapeJavaScript($input.path('$.s')).replaceAll("\\\\'","'")"`,
      `{"s":"it's \\"q\\""}`,
      context,
    ).output;
    expect(JSON.parse(out)).toBe(`it's "q"`);
  });

  it('$util.base64Encode / base64Decode and $util.parseJson', () => {
    const out = renderMappingTemplate(
      `$util.base64Encode("Zoë")|$util.base64Decode("Wm/Dqw==")|#set($o = $util.parseJson($input.json('$.inner')))$o.a`,
      '{"inner":{"a":7}}',
      context,
    ).output;
    expect(out).toBe(`${Buffer.from('Zoë').toString('base64')}|Zoë|7`);
  });

  it('$context.requestTime is CLF (dd/MMM/yyyy:HH:mm:ss +0000), requestTimeEpoch milliseconds', () => {
    expect(clfTime(context.requestTimeEpoch)).toBe('25/Nov/2026:17:40:05 +0000');
    expect(renderMappingTemplate('$context.requestTime|$context.requestTimeEpoch', '', context).output).toBe(
      `25/Nov/2026:17:40:05 +0000|${context.requestTimeEpoch}`,
    );
  });

  it('$context.responseOverride.status and .header.<name> override the method response', () => {
    const r = renderMappingTemplate(
      `#set($context.responseOverride.status = 400)#set($context.responseOverride.header.Retry-After = "1")ok`,
      '',
      context,
    );
    expect([r.output, r.statusOverride, r.headerOverrides]).toEqual(['ok', 400, { 'Retry-After': '1' }]);
  });

  it('JSONPath: $, dotted names, indexes and quoted names', () => {
    const doc = { a: { b: [10, { 'c-d': 'x' }] } };
    expect(jsonPath(doc, '$')).toBe(doc);
    expect(jsonPath(doc, '$.a.b[0]')).toBe(10);
    expect(jsonPath(doc, "$.a.b[1]['c-d']")).toBe('x');
    expect(jsonPath(doc, '$.missing.x')).toBeUndefined();
  });
});
