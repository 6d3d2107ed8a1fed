/**
 * The one door of the JobManager's gRPC port. Deny by default: the TaskManager session
 * needs the cluster's own certificate (when internal TLS is on); every other method,
 * including any added later, needs the bearer token (when one is configured).
 */
import { grpc, peerCommonName, tokenMatches, type TlsMaterial } from '@weir/core';

const SESSION_SERVICE = '/weir.v1.JobManagerService/';

export interface GateSettings {
  /** The cluster's identity; TaskManager sessions must present it. */
  internal?: TlsMaterial;
  token?: string;
}

/** Why a call is refused, or undefined when it may pass. */
export function refusal(path: string, settings: GateSettings, peerName: string | undefined, authorization: string | undefined): string | undefined {
  if (path.startsWith(SESSION_SERVICE)) {
    if (!settings.internal) return undefined;
    return peerName === settings.internal.commonName ? undefined : 'a TaskManager session needs the cluster certificate';
  }
  if (!settings.token) return undefined;
  const presented = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
  if (presented === undefined) return 'this JobManager needs a token: set security.auth.token or $WEIR_AUTH_TOKEN';
  return tokenMatches(settings.token, presented) ? undefined : 'the token is not valid for this JobManager';
}

export function entryGate(settings: GateSettings): grpc.ServerInterceptor {
  return (method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, pass) => {
            const header = metadata.get('authorization')[0];
            const why = refusal(method.path, settings, peerCommonName(call), typeof header === 'string' ? header : undefined);
            if (why) call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: why });
            else pass(metadata);
          },
        }),
    });
}
