import { ProblemsError } from '../../../runtime/contract/problems-error';

describe('ProblemsError', () => {
  it('lists every problem under its heading, one line each, then the footer', () => {
    // Act
    const error = new ProblemsError(
      'Invalid configuration',
      ['PublishInterval is "901"; expected an integer from 0 to 900 (seconds)', 'LogLevel is "loud"'],
      'Run with --help for the parameters.',
    );

    // Assess
    expect(error.message).toBe(
      'Invalid configuration:\n' +
        '  - PublishInterval is "901"; expected an integer from 0 to 900 (seconds)\n' +
        '  - LogLevel is "loud"\n' +
        '\n' +
        'Run with --help for the parameters.',
    );
    expect(error.name).toBe('ProblemsError');
  });

  it('ends with the last problem when there is no footer', () => {
    // Act
    const error = new ProblemsError('Invalid context', ['targetArn is "x"']);

    // Assess
    expect(error.message).toBe('Invalid context:\n  - targetArn is "x"');
  });
});
