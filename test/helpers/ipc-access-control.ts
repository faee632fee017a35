/**
 * Greengrass IPC authorization as the nucleus does it, for the stand-in nucleus and the recipe tests: which
 * `accessControl` documents it loads, and what a loaded policy allows.
 *
 * Written from the nucleus's AuthorizationPolicyParser (accessControl -> service -> policy id -> policy),
 * AuthorizationHandler (registered operations, "*" for any operation or resource), AuthorizationModule (resource
 * validation: "?" only escaped as "${?}") and WildcardTrie (MQTT_STYLE matching, used by pubsub and mqttproxy).
 * @see https://github.com/aws-greengrass/aws-greengrass-nucleus/tree/main/src/main/java/com/aws/greengrass/authorization
 * @see https://docs.aws.amazon.com/greengrass/v2/developerguide/interprocess-communication.html#ipc-authorization-policies
 */

export interface AccessControlPolicy {
  readonly policyDescription?: string;
  readonly operations: readonly string[];
  readonly resources: readonly string[];
}

/** `accessControl`: IPC service, then policy id, then policy. */
export type AccessControl = Readonly<Record<string, Readonly<Record<string, AccessControlPolicy>>>>;

/** What each IPC service registers with the nucleus's authorization handler; "*" is always accepted too. */
export const SERVICE_OPERATIONS: Readonly<Record<string, readonly string[]>> = {
  'aws.greengrass.ipc.pubsub': ['aws.greengrass#PublishToTopic', 'aws.greengrass#SubscribeToTopic'],
  'aws.greengrass.ipc.mqttproxy': ['aws.greengrass#PublishToIoTCore', 'aws.greengrass#SubscribeToIoTCore'],
};

const ANY = '*';

/**
 * Every reason the nucleus would reject or skip part of `accessControl`: a shape it cannot deserialize, a policy
 * without operations, an operation its service does not register, an empty resource or an unescaped "?".
 */
export function accessControlProblems(accessControl: unknown): string[] {
  const problems: string[] = [];
  if (!isRecord(accessControl)) return ['accessControl must be an object of IPC services'];
  for (const [service, policies] of Object.entries(accessControl)) {
    const operations = SERVICE_OPERATIONS[service];
    if (!operations) problems.push(`${service}: not an IPC service this stand-in knows`);
    if (!isRecord(policies)) {
      problems.push(`${service}: must be an object of policy ids`);
      continue;
    }
    for (const [policyId, policy] of Object.entries(policies)) {
      const where = `${service}.${policyId}`;
      if (policyId === '') problems.push(`${service}: a policy id is empty`);
      if (!isRecord(policy)) {
        problems.push(`${where}: must be an object`);
        continue;
      }
      const unknownKeys = Object.keys(policy).filter(
        (key) => !['policydescription', 'operations', 'resources'].includes(key.toLowerCase()),
      );
      if (unknownKeys.length > 0) problems.push(`${where}: unknown keys ${unknownKeys.join(', ')}`);
      if (policy.policyDescription !== undefined && typeof policy.policyDescription !== 'string') {
        problems.push(`${where}: policyDescription must be a string`);
      }
      if (!isStringArray(policy.operations) || policy.operations.length === 0) {
        problems.push(`${where}: operations must be a non-empty list of strings`);
      } else {
        for (const operation of policy.operations) {
          if (operation !== ANY && operations && !operations.includes(operation)) {
            problems.push(`${where}: ${operation} is not an operation of ${service}`);
          }
        }
      }
      if (!isStringArray(policy.resources)) {
        problems.push(`${where}: resources must be a list of strings`);
      } else {
        for (const resource of policy.resources) {
          const problem = resourceProblem(resource);
          if (problem) problems.push(`${where}: resource ${JSON.stringify(resource)} ${problem}`);
        }
      }
    }
  }
  return problems;
}

/** Decides IPC requests from the `accessControl` of each component, as the nucleus's AuthorizationHandler. */
export class IpcAuthorizer {
  private readonly patterns: { service: string; component: string; operation: string; resource: RegExp }[] =
    [];

  /** Throws with every problem when a document is one the nucleus would not load whole. */
  constructor(accessControlByComponent: Readonly<Record<string, AccessControl | undefined>>) {
    for (const [component, accessControl] of Object.entries(accessControlByComponent)) {
      if (accessControl === undefined) continue;
      const problems = accessControlProblems(accessControl);
      if (problems.length > 0) throw new Error(`accessControl of ${component}:\n  ${problems.join('\n  ')}`);
      for (const [service, policies] of Object.entries(accessControl)) {
        for (const policy of Object.values(policies)) {
          for (const operation of policy.operations) {
            for (const resource of policy.resources) {
              this.patterns.push({ service, component, operation, resource: resourcePattern(resource) });
            }
          }
        }
      }
    }
  }

  isAuthorized(service: string, component: string, operation: string, resource: string): boolean {
    return this.patterns.some(
      (pattern) =>
        pattern.service === service &&
        pattern.component === component &&
        (pattern.operation === operation || pattern.operation === ANY) &&
        pattern.resource.test(resource),
    );
  }
}

function resourceProblem(resource: string): string | undefined {
  if (resource === '') return 'is empty';
  const withoutEscapes = resource.replace(/\$\{[*$?]\}/g, '');
  if (withoutEscapes.includes('${')) return 'has an escape other than ${*}, ${$} or ${?}';
  if (withoutEscapes.includes('?')) return "has '?', which is only allowed escaped as ${?}";
  return undefined;
}

/**
 * A policy resource as a regular expression: "*" matches any characters; "#" as the last level and "+" as a whole
 * level match MQTT-style ("a/#" also matches "a"); "${c}" is the literal c; anything else is literal.
 */
function resourcePattern(resource: string): RegExp {
  let pattern = '';
  for (let index = 0; index < resource.length; index++) {
    const rest = resource.slice(index);
    const escaped = /^\$\{([*$?])\}/.exec(rest);
    const char = resource[index];
    const levelStart = index === 0 || resource[index - 1] === '/';
    const levelEnd = index === resource.length - 1 || resource[index + 1] === '/';
    if (escaped) {
      pattern += escapeRegExp(escaped[1]);
      index += 3;
    } else if (char === ANY) {
      pattern += '.*';
    } else if (char === '#' && levelStart && index === resource.length - 1) {
      pattern = index === 0 ? '.*' : `${pattern.slice(0, -1)}(?:/.*)?`;
    } else if (char === '+' && levelStart && levelEnd) {
      pattern += '[^/]*';
    } else {
      pattern += escapeRegExp(char);
    }
  }
  return new RegExp(`^${pattern}$`, 's');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
