// A rollback's create request: the managed container's own inspected configuration with only the image
// swapped. Its host configuration is copied as is; what it only inherited from the bad image is left for the
// old image to supply; what cannot be copied by a create alone is refused; and a created container that
// differs from its source in anything that decides what it may reach or do is told apart.
import { describe, expect, it } from 'vitest';
import {
  hostConfigDifferences,
  missingOwnSettings,
  RecreateRefusedError,
  recreateSpec,
} from '../../src/activities/recreate-spec.js';

const ID = 'abcdef0123456789'.repeat(4);
const OLD = `sha256:${'1'.repeat(64)}`;
const BAD = `sha256:${'2'.repeat(64)}`;

const badImage = {
  Id: BAD,
  Config: {
    Env: ['PATH=/usr/bin', 'NODE_ENV=production', 'RELEASE=bad'],
    Cmd: ['node', '/app/server.cjs'],
    Entrypoint: null,
    WorkingDir: '/app',
    Labels: { 'org.opencontainers.image.version': '2.0', 'medic.memory.max': '1g' },
    ExposedPorts: { '8080/tcp': {} },
    Volumes: { '/data': {} },
  },
};

function inspected(overrides: { Config?: object; HostConfig?: object; NetworkSettings?: object } = {}) {
  return {
    Id: ID,
    Name: '/payments',
    Image: BAD,
    Config: {
      Hostname: 'vm',
      Image: 'localhost/payments:2',
      Env: ['PATH=/usr/bin', 'NODE_ENV=production', 'RELEASE=bad', 'PORT=8080', 'DB_PASSWORD=hunter2'],
      Cmd: ['node', '/app/server.cjs'],
      Entrypoint: null,
      WorkingDir: '/app',
      Labels: {
        'org.opencontainers.image.version': '2.0',
        'medic.memory.max': '1g',
        'medic.managed': 'true',
        team: 'payments',
      },
      ExposedPorts: { '8080/tcp': {}, '9090/tcp': {} },
      Volumes: { '/data': {} },
      StopTimeout: 5,
      ...overrides.Config,
    },
    HostConfig: {
      NetworkMode: 'host',
      Binds: ['/srv/payments:/data'],
      Memory: 268435456,
      MemorySwap: 536870912,
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 },
      CapAdd: null,
      Privileged: false,
      ...overrides.HostConfig,
    },
    NetworkSettings: { Networks: { host: { NetworkID: 'n1' } }, ...overrides.NetworkSettings },
  };
}

describe("a rollback's create request", () => {
  it('copies the host configuration as inspected and swaps only the image', () => {
    const source = inspected();
    const spec = recreateSpec(source, badImage, OLD);
    expect(spec.Image).toBe(OLD);
    expect(spec.HostConfig).toEqual(source.HostConfig);
    expect(hostConfigDifferences(source, spec)).toEqual([]);
    expect(spec.StopTimeout).toBe(5);
    // Host networking: the engine names the container after the host and joins no network by create.
    expect(spec.Hostname).toBeUndefined();
    expect(spec.NetworkingConfig).toBeUndefined();
  });

  it("keeps the container's own environment and labels, and leaves what the bad image baked in to the old one", () => {
    const spec = recreateSpec(inspected(), badImage, OLD);
    expect(spec.Env).toEqual(['PORT=8080', 'DB_PASSWORD=hunter2']);
    expect(spec.Labels).toEqual({ 'medic.memory.max': '1g', 'medic.managed': 'true', team: 'payments' });
    expect(spec.Cmd).toBeUndefined();
    expect(spec.WorkingDir).toBeUndefined();
    expect(spec.ExposedPorts).toEqual({ '9090/tcp': {} });
    expect(spec.Volumes).toBeUndefined();
  });

  it('keeps a command and an entrypoint set for the container itself', () => {
    const spec = recreateSpec(
      inspected({ Config: { Cmd: ['node', '/app/worker.cjs'], Entrypoint: ['/sbin/tini', '--'] } }),
      badImage,
      OLD,
    );
    expect(spec.Entrypoint).toEqual(['/sbin/tini', '--']);
    expect(spec.Cmd).toEqual(['node', '/app/worker.cjs']);
  });

  it('joins the same single network with its static address and aliases, less its old short id', () => {
    const source = inspected({
      Config: { Hostname: ID.slice(0, 12) },
      HostConfig: { NetworkMode: 'managed' },
      NetworkSettings: {
        Networks: {
          managed: {
            IPAMConfig: { IPv4Address: '10.5.0.7' },
            Aliases: ['payments', ID.slice(0, 12)],
            IPAddress: '10.5.0.7',
            NetworkID: 'n2',
          },
        },
      },
    });
    const spec = recreateSpec(source, badImage, OLD);
    expect(spec.Hostname).toBeUndefined();
    expect(spec.NetworkingConfig).toEqual({
      EndpointsConfig: { managed: { IPAMConfig: { IPv4Address: '10.5.0.7' }, Aliases: ['payments'] } },
    });
    // A host name the container was given is its own.
    const named = recreateSpec(
      inspected({ Config: { Hostname: 'payments-1' }, HostConfig: { NetworkMode: 'managed' } }),
      badImage,
      OLD,
    );
    expect(named.Hostname).toBe('payments-1');
  });

  it('refuses what a create alone cannot copy: auto-remove, several networks', () => {
    expect(() => recreateSpec(inspected({ HostConfig: { AutoRemove: true } }), badImage, OLD)).toThrow(
      RecreateRefusedError,
    );
    expect(() =>
      recreateSpec(
        inspected({
          HostConfig: { NetworkMode: 'a' },
          NetworkSettings: { Networks: { a: {}, b: {} } },
        }),
        badImage,
        OLD,
      ),
    ).toThrow(/2 networks/);
  });

  it('tells a created container that gained a privilege, a mount, a device or a port binding from its source', () => {
    const source = inspected();
    for (const [key, value] of [
      ['Privileged', true],
      ['Binds', ['/srv/payments:/data', '/:/host']],
      ['CapAdd', ['SYS_ADMIN']],
      ['Devices', [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rwm' }]],
      ['NetworkMode', 'bridge'],
      ['PortBindings', { '8080/tcp': [{ HostPort: '80' }] }],
      ['Memory', 0],
    ] as const) {
      const created = { ...source, HostConfig: { ...source.HostConfig, [key]: value } };
      expect(hostConfigDifferences(source, created), key).toEqual([key]);
    }
    // An engine's spelling of nothing (null, [], {}, false) is not a difference.
    const respelled = {
      ...source,
      HostConfig: { ...source.HostConfig, CapAdd: [], Devices: null, Privileged: null },
    };
    expect(hostConfigDifferences(source, respelled)).toEqual([]);
  });

  it('names, never shows, the environment a created container lacks', () => {
    const spec = recreateSpec(inspected(), badImage, OLD);
    const created = { Config: { Env: ['PORT=8080'], Labels: { 'medic.managed': 'true', team: 'payments' } } };
    const missing = missingOwnSettings(spec, created);
    expect(missing).toEqual(['environment DB_PASSWORD', 'label medic.memory.max']);
    expect(JSON.stringify(missing)).not.toContain('hunter2');
  });
});
