// What the side panel calls each kind of element and of timer (Dutch labels).

export const KINDS = [
  ['bpmn:UserTask', 'Gebruikerstaak'],
  ['bpmn:ServiceTask', 'Servicetaak'],
  ['bpmn:ScriptTask', 'Scripttaak'],
  ['bpmn:ManualTask', 'Handmatige taak'],
  ['bpmn:SendTask', 'Verzendtaak'],
  ['bpmn:ReceiveTask', 'Ontvangsttaak'],
  ['bpmn:BusinessRuleTask', 'Beslistaak'],
  ['bpmn:CallActivity', 'Aanroep van een ander proces'],
  ['bpmn:SubProcess', 'Subproces'],
  ['bpmn:Task', 'Taak'],
  ['bpmn:StartEvent', 'Startgebeurtenis'],
  ['bpmn:EndEvent', 'Eindgebeurtenis'],
  ['bpmn:BoundaryEvent', 'Randgebeurtenis'],
  ['bpmn:IntermediateCatchEvent', 'Tussengebeurtenis (wacht)'],
  ['bpmn:IntermediateThrowEvent', 'Tussengebeurtenis'],
  ['bpmn:ExclusiveGateway', 'Exclusieve gateway'],
  ['bpmn:InclusiveGateway', 'Inclusieve gateway'],
  ['bpmn:ParallelGateway', 'Parallelle gateway'],
  ['bpmn:EventBasedGateway', 'Gateway op gebeurtenis'],
  ['bpmn:Gateway', 'Gateway'],
  ['bpmn:SequenceFlow', 'Pijl (volgorde)'],
  ['bpmn:MessageFlow', 'Berichtenstroom'],
  ['bpmn:Lane', 'Lane'],
  ['bpmn:Participant', 'Pool'],
  ['bpmn:Process', 'Proces'],
  ['bpmn:Collaboration', 'Diagram'],
  ['bpmn:TextAnnotation', 'Notitie']
];

export const TIMER_KINDS = [
  ['timeDate', 'Op een moment (timeDate)'],
  ['timeDuration', 'Na een duur (timeDuration)'],
  ['timeCycle', 'Herhalend (timeCycle)']
];
