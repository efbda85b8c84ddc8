// demo:deploy's pure parts: which image is the good and which the bad release of a demo image, and the
// create request that keeps a container's own configuration while its image changes.
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { createRequestFor, releaseRefs } from '../../scripts/demo-deploy.js';

describe('the release refs of a demo image', () => {
  it('are the tag and the tag with -bad, from either', () => {
    const refs = {
      good: 'localhost/medic-demo-app:8169aee8d92d',
      bad: 'localhost/medic-demo-app:8169aee8d92d-bad',
    };
    expect(releaseRefs(refs.good)).toEqual(refs);
    expect(releaseRefs(refs.bad)).toEqual(refs);
    expect(releaseRefs('medic-demo-app:local')).toEqual({
      good: 'medic-demo-app:local',
      bad: 'medic-demo-app:local-bad',
    });
    expect(releaseRefs('registry.local:5000/demo')).toEqual({
      good: 'registry.local:5000/demo:latest',
      bad: 'registry.local:5000/demo:latest-bad',
    });
  });
});

describe('the create request of a container with another image', () => {
  // As Docker reports a compose service's container: a hostname and an alias from its id, two networks.
  const id = '0123456789abcdef0123456789abcdef';
  const info = {
    Id: id,
    Name: '/medic-demo',
    Image: 'sha256:old',
    Config: {
      Hostname: id.slice(0, 12),
      Domainname: '',
      User: 'node',
      Env: ['NODE_ENV=production', 'PORT=8080', 'MEDIC_WEBHOOK_SECRET=s3cret-s3cret-s3cret'],
      Cmd: ['node', '/app/server.cjs'],
      Entrypoint: null,
      WorkingDir: '/app',
      Labels: {
        'medic.managed': 'true',
        'medic.action.reset-pool': 'POST /admin/reset-pool',
        'from.image': 'x',
      },
      ExposedPorts: { '8080/tcp': {} },
      StopTimeout: 5,
      Image: 'medic-demo-app:local',
    },
    HostConfig: {
      NetworkMode: 'medic_managed',
      Memory: 402653184,
      RestartPolicy: { Name: 'unless-stopped' },
    },
    NetworkSettings: {
      Networks: {
        medic_managed: { Aliases: ['demo', id.slice(0, 12)], IPAMConfig: null, Links: null },
        medic_extra: { Aliases: ['demo'], IPAMConfig: null, Links: null },
      },
    },
  } as unknown as Docker.ContainerInspectInfo;
  const oldImage = {
    Config: {
      Env: ['NODE_ENV=production'],
      Cmd: ['node', '/app/server.cjs'],
      User: 'node',
      WorkingDir: '/app',
      Labels: { 'from.image': 'x' },
    },
  } as unknown as Docker.ImageInspectInfo;

  it('copies what the container was given beyond its image, the host side whole, and swaps the image', () => {
    const { request, moreNetworks } = createRequestFor(info, oldImage, 'medic-demo-app:local-bad');
    expect(request).toEqual({
      name: 'medic-demo',
      Image: 'medic-demo-app:local-bad',
      Env: ['PORT=8080', 'MEDIC_WEBHOOK_SECRET=s3cret-s3cret-s3cret'],
      Labels: { 'medic.managed': 'true', 'medic.action.reset-pool': 'POST /admin/reset-pool' },
      ExposedPorts: { '8080/tcp': {} },
      StopTimeout: 5,
      HostConfig: info.HostConfig,
      NetworkingConfig: { EndpointsConfig: { medic_managed: { Aliases: ['demo'] } } },
    });
    expect(moreNetworks).toEqual([['medic_extra', { Aliases: ['demo'] }]]);
  });

  it('keeps a command, a user or a working directory of its own', () => {
    const own = {
      ...info,
      Config: {
        ...info.Config,
        Cmd: ['node', '--max-old-space-size=256', '/app/server.cjs'],
        User: 'root',
        WorkingDir: '/srv',
      },
    } as Docker.ContainerInspectInfo;
    expect(createRequestFor(own, oldImage, 'x').request).toMatchObject({
      Cmd: ['node', '--max-old-space-size=256', '/app/server.cjs'],
      User: 'root',
      WorkingDir: '/srv',
    });
  });
});
