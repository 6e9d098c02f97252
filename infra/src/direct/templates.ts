// VTL mapping templates of the ingest API's `direct` mode (API Gateway → kinesis:PutRecords, no
// function). Written for API Gateway's Velocity 1.7 engine; rendered in tests by velocityjs with a
// stand-in for $input, $util and $context (tests/helpers/apiGatewayVtl.ts). String methods are the
// ones Java and JavaScript share (substring, indexOf, startsWith), so both engines read them alike.

/** Per-record error code Kinesis gives a throttled entry. */
const THROTTLED = 'ProvisionedThroughputExceededException';

// `receivedAt` in ISO-8601 UTC with milliseconds, from $context.requestTime (dd/MMM/yyyy:HH:mm:ss +0000)
// and the last three digits of $context.requestTimeEpoch (13 digits until the year 2286).
const RECEIVED_AT = `#set($q = '"')
#set($months = {"Jan":"01","Feb":"02","Mar":"03","Apr":"04","May":"05","Jun":"06","Jul":"07","Aug":"08","Sep":"09","Oct":"10","Nov":"11","Dec":"12"})
#set($t = $context.requestTime)
#set($ms = $context.requestTimeEpoch.toString().substring(10))
#set($receivedAt = "$t.substring(7,11)-$months.get($t.substring(3,6))-$t.substring(0,2)T$t.substring(12,20).\${ms}Z")
`;

/**
 * One record's PutRecords entry. `$path` is the JSONPath of the record, `$r` the record itself; the
 * envelope is `{"eventId","receivedAt","data"}` in this order, the data as `$input.json` serialises it.
 */
const ENTRY = `#if("$!r.eventId" == "")#set($eventId = "$context.requestId:$i")#else#set($eventId = "$r.eventId")#end
#set($data = $input.json("\${path}.data"))
#if("$!r.partitionKey" == "")#set($partitionKey = "$q$eventId$q")#else#set($partitionKey = $input.json("\${path}.partitionKey"))#end
#set($envelope = "{\${q}eventId\${q}:\${q}\${eventId}\${q},\${q}receivedAt\${q}:\${q}\${receivedAt}\${q},\${q}data\${q}:\${data}}")
{"Data":"$util.base64Encode($envelope)","PartitionKey":$partitionKey}`;

/** Request template of `POST /v1/events`: the body's records → one PutRecords call (the model caps it at 500). */
export function eventsRequestTemplate(streamName: string): string {
  return `${RECEIVED_AT}{"StreamName":"${streamName}","Records":[
#foreach($r in $input.path('$.records'))
#set($i = $foreach.index)
#set($path = "$.records[$i]")
${ENTRY}#if($foreach.hasNext),#end
#end
]}`;
}

/** Request template of `POST /v1/event`: the one record → a PutRecords call of one entry. */
export function eventRequestTemplate(streamName: string): string {
  return `${RECEIVED_AT}#set($r = $input.path('$'))
#set($i = 0)
#set($path = "$")
{"StreamName":"${streamName}","Records":[
${ENTRY}
]}`;
}

/**
 * The client's text for a record Kinesis did not write, chosen by its `ErrorCode` only: Kinesis's
 * `ErrorMessage` can name the account, the stream's ARN or a KMS key ARN, so it is never passed on
 * (API Gateway's execution log has the integration response). The same texts as the Lambda handler's.
 */
const RECORD_MESSAGE = `#if($x.ErrorCode == "${THROTTLED}" || $x.ErrorCode == "KMSThrottlingException")Kinesis throttled the record: retry it with the same eventId#elseif($x.ErrorCode == "InternalFailure")Kinesis failed to write the record: retry it with the same eventId#elseif($x.ErrorCode.startsWith("KMS"))The stream's encryption key refused the record#{else}Kinesis did not write the record#end`;

const RESULT = `#if("$!x.ErrorCode" != ""){"errorCode":"$x.ErrorCode","errorMessage":"${RECORD_MESSAGE}"}#else{"shardId":"$x.ShardId","sequenceNumber":"$x.SequenceNumber"}#end`;

/**
 * Response template of a PutRecords answer (HTTP 200) on `POST /v1/events`: 200 when every record was
 * written, 429 with `Retry-After` when every record was throttled, else 207; per-record results in
 * request order. API Gateway cannot see the request here, so results carry no `eventId` (README).
 */
export const EVENTS_RESPONSE_TEMPLATE = `#set($r = $input.path('$'))
#set($throttled = 0)
#foreach($x in $r.Records)#if("$!x.ErrorCode" == "${THROTTLED}")#set($throttled = $throttled + 1)#end#end
#if($r.FailedRecordCount > 0)
#if($throttled == $r.Records.size())
#set($context.responseOverride.status = 429)
#set($context.responseOverride.header.Retry-After = "1")
#else
#set($context.responseOverride.status = 207)
#end
#end
{"failedRecordCount":$r.FailedRecordCount,"records":[#foreach($x in $r.Records)${RESULT}#if($foreach.hasNext),#end#end]}`;

/** Response template of a PutRecords answer (HTTP 200) on `POST /v1/event`: 200, or 429/503 for a failed record. */
export const EVENT_RESPONSE_TEMPLATE = `#set($r = $input.path('$'))
#set($x = $r.Records[0])
#if("$!x.ErrorCode" == "")
{"shardId":"$x.ShardId","sequenceNumber":"$x.SequenceNumber"}
#else
#set($context.responseOverride.header.Retry-After = "1")
#if($x.ErrorCode == "${THROTTLED}")
#set($context.responseOverride.status = 429)
{"error":"Throttled","message":"The record was throttled: retry it with the same eventId","errorCode":"$x.ErrorCode"}
#else
#set($context.responseOverride.status = 503)
{"error":"UpstreamUnavailable","message":"${RECORD_MESSAGE}","errorCode":"$x.ErrorCode"}
#end
#end`;

/**
 * Response template of a Kinesis error answer (HTTP 4xx/5xx, body `{"__type","message"}`): throttling
 * → 429 with `Retry-After`; a record over 1 MiB (Kinesis's validation) → 413; missing stream, access
 * or KMS refusals → 502; anything else, and every 5xx → 503 with `Retry-After`. Never 200.
 */
export const KINESIS_ERROR_RESPONSE_TEMPLATE = `#set($e = $input.path('$'))
#set($type = "$!e.__type")
#set($message = "$!e.message")
## AWS JSON errors may name the type with its namespace: "...#ResourceNotFoundException".
#set($hash = $type.indexOf("#"))
#if($hash >= 0)#set($hash = $hash + 1)#set($type = $type.substring($hash))#end
#if($type == "${THROTTLED}" || $type == "LimitExceededException" || $type == "KMSThrottlingException")
#set($context.responseOverride.status = 429)
#set($context.responseOverride.header.Retry-After = "1")
{"error":"Throttled","message":"Kinesis throttled the request: retry with the same eventIds","errorCode":"$type"}
#elseif($type == "ValidationException" && $message.indexOf("1048576") >= 0)
#set($context.responseOverride.status = 413)
{"error":"PayloadTooLarge","message":"A record is larger than Kinesis's 1 MiB record limit"}
#elseif($type == "ResourceNotFoundException" || $type == "AccessDeniedException" || $type == "ValidationException" || $type.startsWith("KMS"))
#set($context.responseOverride.status = 502)
{"error":"UpstreamRejected","message":"Kinesis refused the write","errorCode":"$type"}
#else
#set($context.responseOverride.status = 503)
#set($context.responseOverride.header.Retry-After = "1")
{"error":"UpstreamUnavailable","message":"Kinesis could not take the write: retry with the same eventIds","errorCode":"$type"}
#end`;
