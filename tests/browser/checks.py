"""What a visitor sees, measured in the page: text contrast, boxes inside the
viewport and not covered, overlapping controls, tab stops, heading order.

Contrast is computed here from the rendered colours (WCAG 2 formula), not taken
from axe, which reports text over stacked controls only as "incomplete".
"""

from __future__ import annotations

from tests.colours import blend, contrast, parse

# For every visible text (and every input's value or placeholder) under the roots:
# its colour, and the colours of the backgrounds below it up to the first opaque one.
_TEXTS = """(roots) => {
  const out = [];
  const hidden = (el) => {
    const s = getComputedStyle(el);
    if (s.visibility === 'hidden' || s.display === 'none' || +s.opacity === 0) return true;
    const r = el.getBoundingClientRect();
    return r.width <= 1 || r.height <= 1 || s.clip === 'rect(0px, 0px, 0px, 0px)';
  };
  const layers = (el) => {
    const bgs = [];
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (s.backgroundImage !== 'none' && !n.matches('summary, button, input, select, textarea'))
        bgs.push('image');
      bgs.push(s.backgroundColor);
      if (/^rgb\\(/.test(s.backgroundColor)) break;
    }
    return bgs;
  };
  const seen = new Set();
  for (const sel of roots) {
    for (const root of document.querySelectorAll(sel)) {
      for (const el of [root, ...root.querySelectorAll('*')]) {
        if (seen.has(el) || el.closest('svg')) continue;
        seen.add(el);
        let text = '';
        if (el.matches('input, textarea, select')) text = el.value || el.placeholder || '';
        else for (const c of el.childNodes) if (c.nodeType === 3) text += c.textContent;
        text = text.trim();
        if (!text || hidden(el)) continue;
        let ancestorHidden = false;
        for (let n = el.parentElement; n; n = n.parentElement) {
          const s = getComputedStyle(n);
          if (s.display === 'none' || s.visibility === 'hidden' ||
              s.clip === 'rect(0px, 0px, 0px, 0px)') { ancestorHidden = true; break; }
        }
        if (ancestorHidden) continue;
        const s = getComputedStyle(el);
        const placeholder = el.matches('input, textarea') && !el.value && el.placeholder;
        const color = placeholder ? getComputedStyle(el, '::placeholder').color : s.color;
        out.push({text: text.slice(0, 60), color, size: parseFloat(s.fontSize),
                  bold: +s.fontWeight >= 700, backgrounds: layers(el)});
      }
    }
  }
  return out;
}"""


def _rgb(css: str):
    return parse(css) if css.startswith(("rgb", "#")) else None


def contrast_failures(page, roots: list[str], minimum: float = 4.5) -> list[str]:
    """Texts under ``roots`` whose contrast with what is behind them is too low
    (large text needs 3:1). Texts over a picture (a map tile) are reported too."""
    failures = []
    for t in page.evaluate(_TEXTS, roots):
        stack = t["backgrounds"]
        if "image" in stack:
            failures.append(f"{t['text']!r}: over an image, contrast unknown")
            continue
        bg = (1.0, 1.0, 1.0, 1.0)
        for css in reversed(stack):
            rgb = _rgb(css)
            if rgb and rgb[3] > 0:
                bg = blend(rgb, bg)
        fg = blend(_rgb(t["color"]), bg)
        ratio = contrast(fg, bg)
        large = t["size"] >= 24 or (t["bold"] and t["size"] >= 18.66)
        if ratio < (3.0 if large else minimum):
            failures.append(f"{t['text']!r}: {ratio:.2f}:1 ({t['color']} on {stack})")
    return failures


def text_count(page, roots: list[str]) -> int:
    """How many texts the contrast check looked at (so a test sees it looked)."""
    return len(page.evaluate(_TEXTS, roots))


# A box fully inside the viewport, and the element found at points of it: the box
# itself (or its content), never a control drawn over it.
_PLACEMENT = """(sel) => {
  const el = document.querySelector(sel);
  if (!el) return null;
  const r = el.getBoundingClientRect();
  const inset = 6;
  const points = [[r.left + inset, r.top + inset], [r.right - inset, r.top + inset],
                  [r.left + inset, r.bottom - inset], [r.right - inset, r.bottom - inset],
                  [(r.left + r.right) / 2, (r.top + r.bottom) / 2]];
  const close = el.querySelector('.mapapp-card-close');
  if (close) {
    const c = close.getBoundingClientRect();
    points.push([(c.left + c.right) / 2, (c.top + c.bottom) / 2]);
  }
  const covered = points.filter(([x, y]) => {
    const at = document.elementFromPoint(x, y);
    return !(at && (el === at || el.contains(at)));
  });
  return {left: r.left, top: r.top, right: r.right, bottom: r.bottom,
          width: innerWidth, height: innerHeight, covered: covered.length};
}"""


def placement(page, selector: str) -> dict:
    """Where the element is and how many of its test points something covers."""
    return page.evaluate(_PLACEMENT, selector)


def inside_viewport(box: dict) -> bool:
    return (
        box["left"] >= 0
        and box["top"] >= 0
        and box["right"] <= box["width"] + 0.5
        and box["bottom"] <= box["height"] + 0.5
    )


_OVERLAPS = """(sels) => {
  const boxes = [];
  for (const sel of sels) for (const el of document.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) boxes.push({sel, r});
  }
  const out = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i].r, b = boxes[j].r;
    if (a.left < b.right - 0.5 && b.left < a.right - 0.5 &&
        a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5)
      out.push(boxes[i].sel + ' / ' + boxes[j].sel);
  }
  return out;
}"""


def overlaps(page, selectors: list[str]) -> list[str]:
    """Pairs of visible elements (matched by ``selectors``) whose boxes intersect."""
    return page.evaluate(_OVERLAPS, selectors)


def headings(page) -> list[int]:
    """The levels of the page's visible and screen-reader headings, in order."""
    return page.evaluate(
        "() => [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')]"
        ".filter(h => h.getClientRects().length).map(h => +h.tagName[1])"
    )


def tabs_to(page, predicate_js: str, limit: int = 30) -> int | None:
    """Tab presses from the start of a freshly loaded page until
    ``predicate_js(document.activeElement)`` holds, or None within ``limit``."""
    for n in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => ({predicate_js})(document.activeElement)"):
            return n
    return None


DEVICES = {
    "phone": {
        "viewport": {"width": 360, "height": 740},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}


def visitor(browser, device: str, lang: str = "fr-FR", **extra):
    """A new browser context as a visitor on ``device`` (phone or desktop)."""
    return browser.new_context(locale=lang, **DEVICES[device], **extra)
