import { checkRemovals, removalProblems } from '../../../lib/custom-resources/removal-guard';

const TARGET = 'arn:aws:iot:eu-west-1:123456789012:thinggroup/firehose-cores';
const DEPLOYED = {
  StackName: 'GreengrassFirehoseConnector',
  Holds: {
    deployment: TARGET,
    tokenExchangeRole: '(generated name)',
    tokenExchangeRoleAlias: 'FirehoseConnectorTokenExchangeRoleAlias',
    deliveryStream: 'connector',
  },
  AllowRemoval: [],
};

describe('removal guard', () => {
  test('refuses a deploy that forgot every setting, naming each thing, the consequence and both ways out', () => {
    // Act & Assess
    expect(() =>
      checkRemovals(DEPLOYED, { ...DEPLOYED, Holds: { deliveryStream: '(generated name)' } }),
    ).toThrow(
      'Refused, nothing was changed: the last deploy of GreengrassFirehoseConnector made what this one drops. ' +
        `(1) the deployment to ${TARGET}: this deploy would remove it, and devices would keep running the ` +
        'component with nothing managing it. If a setting was forgotten, save it (npm run configure, keys ' +
        'targetArn) and deploy again; if this is wanted, deploy with -c allowRemoval=deployment. (2) the token ' +
        'exchange role (generated name): this deploy would remove it,',
    );
  });

  test('lists one problem per dropped or replaced thing', () => {
    // Act
    const problems = removalProblems(DEPLOYED, {
      ...DEPLOYED,
      Holds: { deliveryStream: '(generated name)' },
    });

    // Assess
    expect(problems.map((problem) => problem.split(':')[0])).toEqual([
      `the deployment to ${TARGET.split(':')[0]}`,
      'the token exchange role (generated name)',
      'the token exchange role alias FirehoseConnectorTokenExchangeRoleAlias',
      'the delivery stream connector',
    ]);
    expect(problems[3]).toContain('this deploy would replace it with (generated name), and records queued');
  });

  test('allows what allowRemoval names, and everything with all', () => {
    // Act
    const some = removalProblems(DEPLOYED, {
      ...DEPLOYED,
      Holds: { ...DEPLOYED.Holds, deployment: undefined },
      AllowRemoval: ['deployment'],
    });
    const all = removalProblems(DEPLOYED, { Holds: {}, AllowRemoval: ['all'] });

    // Assess
    expect([some, all]).toEqual([[], []]);
  });

  test('allows adding things and keeping them', () => {
    // Act
    const added = removalProblems({ Holds: { deliveryStream: 'connector' } }, DEPLOYED);
    const kept = removalProblems(DEPLOYED, DEPLOYED);

    // Assess
    expect([added, kept]).toEqual([[], []]);
  });
});
