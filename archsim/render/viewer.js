(function(){
  const view=document.getElementById('view'), svg=view.querySelector('svg');
  const details=JSON.parse(document.getElementById('details').textContent);
  const tip=document.getElementById('tip');
  const box=svg.viewBox.baseVal, home=[box.x,box.y,box.width,box.height];
  svg.removeAttribute('width'); svg.removeAttribute('height');
  function set(v){svg.setAttribute('viewBox',v.join(' '));}
  function zoom(f,cx,cy){const b=svg.viewBox.baseVal,r=svg.getBoundingClientRect();
    const px=b.x+(cx-r.left)/r.width*b.width, py=b.y+(cy-r.top)/r.height*b.height;
    set([px-(px-b.x)*f, py-(py-b.y)*f, b.width*f, b.height*f]);}
  view.addEventListener('wheel',e=>{e.preventDefault();zoom(e.deltaY<0?0.85:1/0.85,e.clientX,e.clientY);},{passive:false});
  let drag=null;
  view.addEventListener('mousedown',e=>{drag=[e.clientX,e.clientY];view.style.cursor='grabbing';});
  window.addEventListener('mouseup',()=>{drag=null;view.style.cursor='grab';});
  window.addEventListener('mousemove',e=>{
    if(drag){const b=svg.viewBox.baseVal,r=svg.getBoundingClientRect();
      set([b.x-(e.clientX-drag[0])*b.width/r.width, b.y-(e.clientY-drag[1])*b.height/r.height, b.width, b.height]);
      drag=[e.clientX,e.clientY]; return;}
    const g=e.target.closest && e.target.closest('g.node');
    const id=g && g.id.startsWith('node-') ? g.id.slice(5) : null;
    if(!id || !details[id]){tip.style.display='none';return;}
    const rows=Object.entries(details[id]).map(([k,v])=>{
      const t=document.createElement('tr'),a=document.createElement('td'),b=document.createElement('td');
      a.textContent=k; b.textContent=Array.isArray(v)?v.join('\n'):String(v); b.style.whiteSpace='pre-wrap';
      t.append(a,b); return t;});
    const tb=document.createElement('table'); tb.append(...rows); tip.replaceChildren(tb);
    tip.style.display='block'; tip.style.left=(e.clientX+14)+'px'; tip.style.top=(e.clientY+14)+'px';
  });
  document.getElementById('fit').onclick=()=>set(home);
  document.getElementById('in').onclick=()=>{const r=svg.getBoundingClientRect();zoom(0.8,r.left+r.width/2,r.top+r.height/2);};
  document.getElementById('out').onclick=()=>{const r=svg.getBoundingClientRect();zoom(1.25,r.left+r.width/2,r.top+r.height/2);};
})();
