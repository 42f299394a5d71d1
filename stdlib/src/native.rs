//! Native classes that .aio code can subclass: an instance of a user
//! subclass carries the native object as its builtin value, and the
//! native methods reach it through [`native_ref`].

use std::cell::RefCell;
use std::marker::PhantomData;
use std::ops::Deref;
use std::rc::Rc;

use aio_interp::object::*;
use aio_interp::Value;

/// A native object of type `T` reached through a value.
pub struct NativeRef<T> {
    rc: Rc<Box<dyn NativeObject>>,
    _t: PhantomData<T>,
}

impl<T: NativeObject> Deref for NativeRef<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.rc.as_any().downcast_ref::<T>().expect("type checked in native_ref")
    }
}

/// The `T` behind `v`: `v` itself, or the builtin value of an instance of
/// a subclass of `T`'s class.
pub fn native_ref<T: NativeObject>(v: &Value) -> Option<NativeRef<T>> {
    let rc = match v {
        Value::Object(o) => o.clone(),
        Value::Instance(i) => match i.builtin_value() {
            Some(Value::Object(o)) => o,
            _ => return None,
        },
        _ => return None,
    };
    if rc.as_any().is::<T>() {
        Some(NativeRef { rc, _t: PhantomData })
    } else {
        None
    }
}

/// The result of `cls.__new__` for a native class `base`: the object
/// itself, or an instance of the subclass `cls` wrapping it.
pub fn instance_of(cls: &Rc<Class>, base: &Rc<Class>, obj: Value) -> Value {
    if Rc::ptr_eq(cls, base) {
        return obj;
    }
    Value::Instance(Instance::new(cls.clone(), Payload::Builtin(RefCell::new(obj))))
}
