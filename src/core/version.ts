import pkg from '../../package.json' with { type: 'json' };

/** The toolkit's version, written into every report. */
export const TOOL_VERSION: string = pkg.version;
export const TOOL_NAME = 'mlops-actions';
