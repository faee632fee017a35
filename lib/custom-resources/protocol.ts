/**
 * The CloudFormation custom resource protocol, as far as the stack's functions use it: the request CloudFormation
 * sends, and the response it waits for at `ResponseURL` (a presigned S3 URL). The functions are the custom resources'
 * service token themselves, so there is no provider framework function between CloudFormation and them.
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requests.html
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
 */

export interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly ResourceType: string;
  readonly LogicalResourceId: string;
  /** Absent on Create. */
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Readonly<Record<string, unknown>>;
  /** Present on Update only. */
  readonly OldResourceProperties?: Readonly<Record<string, unknown>>;
}

/** What a handler decides: the resource's physical id and the attributes `Fn::GetAtt` reads. */
export interface HandlerResult {
  readonly physicalResourceId: string;
  readonly data?: Readonly<Record<string, string>>;
}

interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly Data?: Readonly<Record<string, string>>;
}

/** CloudFormation shows at most this much of a reason; a longer response is refused whole. */
const MAX_REASON_LENGTH = 3000;

/** The response to `event` for a handler's result, or for its error (the message becomes the stack event's reason). */
export function responseFor(
  event: CustomResourceEvent,
  outcome: HandlerResult | Error,
): CustomResourceResponse {
  const common = {
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  if (outcome instanceof Error) {
    return {
      ...common,
      Status: 'FAILED',
      Reason: outcome.message.slice(0, MAX_REASON_LENGTH),
      // A failed Create has no physical id yet; any stable value keeps CloudFormation from sending a Delete for a
      // resource that was never made with another id.
      PhysicalResourceId: event.PhysicalResourceId ?? `${event.LogicalResourceId}-failed`,
    };
  }
  return { ...common, Status: 'SUCCESS', PhysicalResourceId: outcome.physicalResourceId, Data: outcome.data };
}

/** Sends `response` to the presigned URL, as CloudFormation expects it: a PUT with an empty content type. */
export async function sendResponse(url: string, response: CustomResourceResponse): Promise<void> {
  const body = JSON.stringify(response);
  const reply = await fetch(url, {
    method: 'PUT',
    body,
    headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(body)) },
  });
  if (!reply.ok)
    throw new Error(`CloudFormation's response URL answered ${reply.status}: ${await reply.text()}`);
}
