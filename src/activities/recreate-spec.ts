// What a rollback's create sends to the engine: the managed container's own inspected configuration with
// only the image swapped. Its host configuration (mounts, capabilities, privileges, devices, network mode,
// port bindings, limits, restart policy) is copied as the engine reported it, never built or added to; its
// own settings (environment, labels, command) are kept; what it only inherited from the image it ran (the
// image's baked environment, labels, command, working directory) is left for the other image to supply,
// or a rollback would carry the bad release's defaults into the old one. Pure: the engine adapter feeds it
// inspections and checks the created container against the source with `hostConfigDifferences`.

/** An engine's JSON object, kept whole: fields this code does not know are copied as they are. */
type Json = Record<string, unknown>;

export class RecreateRefusedError extends Error {
  override name = 'RecreateRefusedError';
}

/** The host configuration fields that decide what a container may reach or do; checked after a create. */
export const GUARDED_HOST_CONFIG = [
  'Binds',
  'Mounts',
  'VolumesFrom',
  'Tmpfs',
  'CapAdd',
  'CapDrop',
  'Privileged',
  'SecurityOpt',
  'Devices',
  'DeviceRequests',
  'DeviceCgroupRules',
  'NetworkMode',
  'PortBindings',
  'PublishAllPorts',
  'Links',
  'ExtraHosts',
  'PidMode',
  'IpcMode',
  'UTSMode',
  'UsernsMode',
  'CgroupnsMode',
  'CgroupParent',
  'ReadonlyRootfs',
  'GroupAdd',
  'Sysctls',
  'Runtime',
  'Memory',
  'MemorySwap',
  'NanoCpus',
  'CpuShares',
  'CpuQuota',
  'CpuPeriod',
  'CpusetCpus',
  'PidsLimit',
  'OomKillDisable',
  'Ulimits',
  'RestartPolicy',
  'AutoRemove',
] as const;

/** Labels Medic reads its declarations from are the container's as they are now, wherever they came from. */
const MEDIC_LABEL_PREFIX = 'medic.';

/**
 * The create request for a container like `source` (its inspection) but running `imageId`; `sourceImage`
 * is the inspection of the image `source` runs. Throws RecreateRefusedError when a create alone cannot
 * copy the container (it is removed when stopped, or sits on several networks).
 */
export function recreateSpec(source: Json, sourceImage: Json, imageId: string): Json {
  const config = { ...(object(source.Config) ?? {}) };
  const hostConfig = object(source.HostConfig) ?? {};
  const imageConfig = object(sourceImage.Config) ?? {};
  if (hostConfig.AutoRemove === true) {
    throw new RecreateRefusedError(
      'the container is removed by the engine when it stops (auto-remove): stopping it to swap its image would lose it, and nothing could be put back',
    );
  }
  const networkMode = typeof hostConfig.NetworkMode === 'string' ? hostConfig.NetworkMode : 'default';
  const sharedNetwork = ['host', 'none'].includes(networkMode) || networkMode.startsWith('container:');
  const id = typeof source.Id === 'string' ? source.Id : '';
  if (sharedNetwork || config.Hostname === id.slice(0, 12)) {
    // The engine's own choice (the host's name, or the old container's short id), not the container's.
    delete config.Hostname;
    delete config.Domainname;
  }
  config.Image = imageId;
  keepOwn(config, imageConfig);
  const spec: Json = { ...config, HostConfig: structuredClone(hostConfig) };
  const endpoints = endpointsConfig(source, networkMode, sharedNetwork, id);
  if (endpoints) spec.NetworkingConfig = { EndpointsConfig: endpoints };
  return spec;
}

/** Drops from `config` what it only inherited from its image, keeping what was set for the container. */
function keepOwn(config: Json, image: Json): void {
  const imageEnv = new Set(strings(image.Env));
  config.Env = strings(config.Env).filter((entry) => !imageEnv.has(entry));
  const imageLabels = object(image.Labels) ?? {};
  config.Labels = Object.fromEntries(
    Object.entries(object(config.Labels) ?? {}).filter(
      ([key, value]) => key.startsWith(MEDIC_LABEL_PREFIX) || imageLabels[key] !== value,
    ),
  );
  // As the engine resolves them: an entrypoint of the image's own resets the command to the image's too.
  if (same(config.Entrypoint, image.Entrypoint)) {
    delete config.Entrypoint;
    if (same(config.Cmd, image.Cmd)) delete config.Cmd;
  }
  for (const key of ['WorkingDir', 'User', 'StopSignal', 'Healthcheck'] as const) {
    if (same(config[key], image[key])) delete config[key];
  }
  for (const key of ['ExposedPorts', 'Volumes'] as const) {
    const own = Object.entries(object(config[key]) ?? {}).filter(([k]) => !(k in (object(image[key]) ?? {})));
    if (own.length > 0) config[key] = Object.fromEntries(own);
    else delete config[key];
  }
  // The image's build-time instructions are no container's setting.
  delete config.OnBuild;
  delete config.Shell;
}

/**
 * A container on a network of its own joins the same one, with the same static address and aliases
 * (less its old short id, which the engine adds). One network only: a create joins one, and adding another
 * takes a call the socket proxy does not let through.
 */
function endpointsConfig(source: Json, networkMode: string, shared: boolean, id: string): Json | undefined {
  if (shared) return undefined;
  const networks = object(object(source.NetworkSettings)?.Networks) ?? {};
  const names = Object.keys(networks);
  if (names.length === 0) return undefined;
  if (names.length > 1) {
    throw new RecreateRefusedError(
      `the container is on ${names.length} networks (${names.join(', ')}); a create joins only one, so it cannot be copied`,
    );
  }
  const name = names[0] as string;
  const endpoint = object(networks[name]) ?? {};
  const aliases = strings(endpoint.Aliases).filter((a) => a !== id.slice(0, 12));
  const out: Json = {};
  for (const key of ['IPAMConfig', 'Links', 'DriverOpts'] as const) {
    if (endpoint[key] !== undefined && endpoint[key] !== null) out[key] = endpoint[key];
  }
  if (aliases.length > 0) out.Aliases = aliases;
  return { [networkMode === 'default' ? name : networkMode]: out };
}

/**
 * The guarded host configuration fields in which `created` differs from `source` (empty: none).
 */
export function hostConfigDifferences(source: Json, created: Json): string[] {
  const a = object(source.HostConfig) ?? {};
  const b = object(created.HostConfig) ?? {};
  return GUARDED_HOST_CONFIG.filter((key) => !same(a[key], b[key]));
}

/** The created container carries every label and environment entry of its own the source had. */
export function missingOwnSettings(spec: Json, created: Json): string[] {
  const config = object(created.Config) ?? {};
  const env = new Set(strings(config.Env));
  const labels = object(config.Labels) ?? {};
  // Names only: an environment value may be a secret.
  const missingEnv = strings(spec.Env)
    .filter((entry) => !env.has(entry))
    .map((entry) => `environment ${entry.split('=')[0]}`);
  const missingLabels = Object.entries(object(spec.Labels) ?? {})
    .filter(([key, value]) => labels[key] !== value)
    .map(([key]) => `label ${key}`);
  return [...missingEnv, ...missingLabels];
}

function object(value: unknown): Json | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function normal(value: unknown): unknown {
  // Unset, empty and the default false or 0 are one value: engines spell an unset field each their way.
  if (value === null || value === undefined || value === '' || value === false || value === 0)
    return undefined;
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.map(normal);
  if (typeof value === 'object') {
    const entries = Object.entries(value as Json)
      .map(([k, v]) => [k, normal(v)] as const)
      .filter(([, v]) => v !== undefined)
      .sort(([x], [y]) => x.localeCompare(y));
    return entries.length === 0 ? undefined : Object.fromEntries(entries);
  }
  return value;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(normal(a)) === JSON.stringify(normal(b));
}
