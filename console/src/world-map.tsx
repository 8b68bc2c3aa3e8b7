import type { Geography } from './types';
import { AUDIT_WORDS, geographyLabel, geographyVerdict } from './words';
import { LAND_PATH, MAP_HEIGHT, MAP_WIDTH, PLACES, project } from './world-shapes';

const CHAR = 3.5;

export function WorldMap({ geographies, selected, onSelect }: { geographies: Geography[]; selected: string | undefined; onSelect: (key: string) => void }) {
  return (
    <svg class="world-map" viewBox={`0 0 ${MAP_WIDTH} ${MAP_HEIGHT}`} role="group" aria-labelledby="map-title">
      <title id="map-title">World map of the 16 geographies; choose one for its details</title>
      <rect class="sea" x="0" y="0" width={MAP_WIDTH} height={MAP_HEIGHT} />
      <path class="land" d={LAND_PATH} />
      {geographies.map((g) => {
        const place = PLACES[g.key];
        if (!place) return null;
        const [ax, ay] = project(...place.at);
        const [lx, ly] = project(...place.label);
        return <line key={`${g.key}-line`} class="leader" x1={ax} y1={ay} x2={lx} y2={ly} />;
      })}
      {geographies.map((g) => {
        const place = PLACES[g.key];
        if (!place) return null;
        const [ax, ay] = project(...place.at);
        return <circle key={`${g.key}-dot`} class={g.enabled ? 'dot enabled' : 'dot'} cx={ax} cy={ay} r="1.3" />;
      })}
      {geographies.map((g) => {
        const place = PLACES[g.key];
        if (!place) return null;
        const [lx, ly] = project(...place.label);
        const verdict = geographyVerdict(g);
        const text = `${place.short ?? g.name} ${g.resourceCount}${verdict ? ` ${AUDIT_WORDS[verdict].symbol}` : ''}`;
        const width = text.length * CHAR + 6;
        const activate = () => onSelect(g.key);
        return (
          <g
            key={g.key}
            class={`marker${g.enabled ? ' enabled' : ''}${selected === g.key ? ' selected' : ''}`}
            role="button"
            tabindex={0}
            aria-label={geographyLabel(g)}
            aria-pressed={selected === g.key}
            data-geography={g.key}
            onClick={activate}
            onKeyDown={(event) => {
              if (event.key === 'Enter' || event.key === ' ') {
                event.preventDefault();
                activate();
              }
            }}
          >
            <rect x={lx - width / 2} y={ly - 5} width={width} height="10" rx="5" />
            <text x={lx} y={ly + 2} text-anchor="middle" aria-hidden="true">
              {text}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
